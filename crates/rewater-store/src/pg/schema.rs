//! The PostgreSQL schema, one constant per version (see [`crate::migrate`]).

use crate::migrate::{Migration, Step};

/// Version 1: the schema before versioned migrations (its `meta.schema_version` said 1).
pub(super) const V1: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS site (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, standard TEXT,
    district TEXT NOT NULL, lon DOUBLE PRECISION, lat DOUBLE PRECISION, model_node TEXT);
CREATE TABLE IF NOT EXISTS device (
    mn TEXT PRIMARY KEY, password TEXT NOT NULL, site_id TEXT NOT NULL REFERENCES site(id),
    lenient BOOLEAN NOT NULL, accept_modbus_crc BOOLEAN NOT NULL);
CREATE TABLE IF NOT EXISTS frame (
    id BIGSERIAL PRIMARY KEY, received_at_ms BIGINT NOT NULL, peer TEXT NOT NULL,
    mn TEXT, cn TEXT, raw TEXT NOT NULL, status TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS frame_received ON frame(received_at_ms);
CREATE TABLE IF NOT EXISTS upload (
    mn TEXT NOT NULL, cn TEXT NOT NULL, data_time BIGINT NOT NULL, pno INTEGER NOT NULL,
    frame_id BIGINT NOT NULL, PRIMARY KEY (mn, cn, data_time, pno));
CREATE SEQUENCE IF NOT EXISTS reading_id_seq;
CREATE TABLE IF NOT EXISTS reading (
    id BIGINT NOT NULL DEFAULT nextval('reading_id_seq'), mn TEXT NOT NULL, factor TEXT NOT NULL,
    cn TEXT NOT NULL, data_time BIGINT NOT NULL, value DOUBLE PRECISION, min DOUBLE PRECISION,
    max DOUBLE PRECISION, cou DOUBLE PRECISION, flag TEXT, frame_id BIGINT, corrects BIGINT,
    reason TEXT, changed_by TEXT, received_at_ms BIGINT NOT NULL
) PARTITION BY RANGE (data_time);
CREATE INDEX IF NOT EXISTS reading_series ON reading (mn, factor, data_time);
CREATE INDEX IF NOT EXISTS reading_id ON reading (id);
CREATE INDEX IF NOT EXISTS reading_corrects ON reading (corrects) WHERE corrects IS NOT NULL;
CREATE TABLE IF NOT EXISTS aggregate (
    mn TEXT NOT NULL, factor TEXT NOT NULL, period TEXT NOT NULL, start BIGINT NOT NULL,
    n BIGINT NOT NULL, sum DOUBLE PRECISION NOT NULL, min DOUBLE PRECISION NOT NULL,
        max DOUBLE PRECISION NOT NULL, PRIMARY KEY (mn, factor, period, start)) WITH (fillfactor = 50);
CREATE TABLE IF NOT EXISTS factor (
    code TEXT PRIMARY KEY, name_zh TEXT NOT NULL, name_en TEXT NOT NULL, unit TEXT NOT NULL, code_2005 TEXT);
CREATE TABLE IF NOT EXISTS alert (
    id BIGSERIAL PRIMARY KEY, site_id TEXT NOT NULL, mn TEXT, kind TEXT NOT NULL, factor TEXT,
    severity TEXT NOT NULL, message TEXT NOT NULL, data_time BIGINT NOT NULL, value DOUBLE PRECISION,
    limit_text TEXT, state TEXT NOT NULL, raised_at_ms BIGINT NOT NULL, recovered_at_ms BIGINT);
CREATE INDEX IF NOT EXISTS alert_state ON alert(state, id);
CREATE INDEX IF NOT EXISTS alert_key ON alert(site_id, kind, factor);
CREATE TABLE IF NOT EXISTS alert_change (
    id BIGSERIAL PRIMARY KEY, alert_id BIGINT NOT NULL REFERENCES alert(id), state TEXT NOT NULL,
    who TEXT NOT NULL, comment TEXT NOT NULL, at_ms BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS account (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, district TEXT, password_hash TEXT NOT NULL,
    disabled BOOLEAN NOT NULL, created_at_ms BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS credential (
    secret_hash TEXT PRIMARY KEY, account TEXT NOT NULL REFERENCES account(name), kind TEXT NOT NULL,
    csrf TEXT NOT NULL, label TEXT NOT NULL, created_at_ms BIGINT NOT NULL, expires_at_ms BIGINT);
CREATE TABLE IF NOT EXISTS audit (
    id BIGSERIAL PRIMARY KEY, at_ms BIGINT NOT NULL, who TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT NOT NULL, detail TEXT NOT NULL);
";

/// Version 2: device passwords hashed, allowed source addresses, disabled devices.
pub(super) const V2: &str = "
ALTER TABLE device RENAME COLUMN password TO password_hash;
ALTER TABLE device ADD COLUMN allowed_peers TEXT NOT NULL DEFAULT '';
ALTER TABLE device ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT false;
";

/// Version 3: rejected frames as counts and a few examples; a version number for the site and
/// device register (a running gateway reloads when it moves).
const V3: &str = "
CREATE TABLE rejected (
    hour_start BIGINT NOT NULL, source TEXT NOT NULL, reason TEXT NOT NULL, count BIGINT NOT NULL,
    first_at_ms BIGINT NOT NULL, last_at_ms BIGINT NOT NULL,
    PRIMARY KEY (hour_start, source, reason));
CREATE INDEX rejected_last ON rejected (last_at_ms);
CREATE TABLE rejected_sample (
    id BIGSERIAL PRIMARY KEY, hour_start BIGINT NOT NULL, source TEXT NOT NULL, reason TEXT NOT NULL,
    received_at_ms BIGINT NOT NULL, peer TEXT NOT NULL, mn TEXT, cn TEXT, detail TEXT NOT NULL,
    head TEXT NOT NULL);
CREATE INDEX rejected_sample_key ON rejected_sample (hour_start, source, reason);
CREATE INDEX rejected_sample_received ON rejected_sample (received_at_ms);
INSERT INTO meta (key, value) VALUES ('config_version', '0') ON CONFLICT DO NOTHING;
";

/// Version 5 (issue 16): the outfall register as versioned records (see `crate::outfalls`).
const V5_OUTFALLS: &str = "
CREATE TABLE outfall_record (
    id BIGSERIAL PRIMARY KEY, kind TEXT NOT NULL, key TEXT NOT NULL, version BIGINT NOT NULL,
    district TEXT, search TEXT NOT NULL, body TEXT NOT NULL, retired BOOLEAN NOT NULL,
    current BOOLEAN NOT NULL, who TEXT NOT NULL, reason TEXT NOT NULL, at_ms BIGINT NOT NULL,
    UNIQUE (kind, key, version));
CREATE UNIQUE INDEX outfall_record_current ON outfall_record (kind, key) WHERE current;
CREATE INDEX outfall_record_district ON outfall_record (kind, district, key) WHERE current;
";

/// Version 11 (issue 19): the code columns of the ingest tables' keys compare bytewise
/// (`COLLATE "C"`). MN, CN, factor codes and the period name are ASCII letters and digits (the
/// store refuses anything else), which sort the same bytewise as in any libc or ICU locale, but
/// a libc collation such as `C.UTF-8` made PostgreSQL 15 call `strcoll` for every comparison of
/// these keys (the B-tree of `reading (mn, factor, data_time)`, the primary keys of `upload` and
/// `aggregate`, and the batch statement's sorts), without abbreviated sort keys. Changing a
/// column's collation keeps its rows (no table rewrite) and rebuilds the indexes that use it.
const V11: &str = r#"
ALTER TABLE reading ALTER COLUMN mn TYPE TEXT COLLATE "C", ALTER COLUMN factor TYPE TEXT COLLATE "C",
    ALTER COLUMN cn TYPE TEXT COLLATE "C";
ALTER TABLE upload ALTER COLUMN mn TYPE TEXT COLLATE "C", ALTER COLUMN cn TYPE TEXT COLLATE "C";
ALTER TABLE aggregate ALTER COLUMN mn TYPE TEXT COLLATE "C", ALTER COLUMN factor TYPE TEXT COLLATE "C",
    ALTER COLUMN period TYPE TEXT COLLATE "C";
"#;

pub(super) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        what: "sites, devices, frames, readings, aggregates, alerts, accounts, audit",
        steps: &[Step::Sql(V1)],
    },
    Migration {
        version: 2,
        what: "device passwords hashed; allowed source addresses; disabled devices",
        steps: &[Step::Sql(V2), Step::HashDevicePasswords],
    },
    Migration {
        version: 3,
        what: "rejected frames counted with a few examples; register version",
        steps: &[Step::Sql(V3)],
    },
    Migration {
        version: 4,
        what: "task progress with evidence attachments; river chiefs and patrols",
        steps: &[Step::Sql(super::tasks::V4)],
    },
    Migration {
        version: 5,
        what: "outfall register: versioned records (issue 16)",
        steps: &[Step::Sql(V5_OUTFALLS)],
    },
    Migration {
        version: 6,
        what: "maintenance windows of data loggers (issue 13)",
        steps: &[Step::Sql(super::maintenance::V6)],
    },
    Migration {
        version: 7,
        what:
            "names of sites and districts in Chinese and English; public supply points (issue 13)",
        steps: &[Step::Sql(super::labels::V7)],
    },
    Migration {
        version: 8,
        what: "alert feed of committed batches for several gateways (issue 19)",
        steps: &[Step::Sql(crate::cluster::V8_PG)],
    },
    Migration {
        version: 9,
        what: "gaps found and requested again (补发); logger commands and answers (issue 19)",
        steps: &[Step::Sql(super::platform::V9)],
    },
    Migration {
        version: 10,
        what: "split packets (PNUM/PNO) held in the store until complete (issue 19)",
        steps: &[Step::Sql(crate::split::V10_PG)],
    },
    Migration {
        version: 11,
        what: "key columns of readings, uploads and aggregates compared bytewise (issue 19)",
        steps: &[Step::Sql(V11)],
    },
    Migration {
        version: 12,
        what: "batches whose readings wait for the hourly aggregates' fold (issue 19)",
        steps: &[Step::Sql(super::fold::V12)],
    },
    Migration {
        version: 13,
        what: "pending batches left to the fold of the gateway that holds their sums (issue 19)",
        steps: &[Step::Sql(super::fold::V13)],
    },
    Migration {
        version: 14,
        what: "the DataTime range and fold part of each pending batch's rows (issue 19)",
        steps: &[Step::Sql(super::fold::V14)],
    },
    Migration {
        version: 15,
        what:
            "one row per upload with its readings in arrays; the series of each logger (issue 19)",
        steps: &[Step::Sql(super::upload_rows::V15)],
    },
];
