-- A store as rewater wrote it before versioned migrations (schema version 1), kept to test
-- that a store of the previous version opens and is migrated. Do not edit: it is history.
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
INSERT INTO meta (key, value) VALUES ('schema_version', '1') ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS reading_m2025_06 PARTITION OF reading FOR VALUES FROM (1748736000) TO (1751328000);
INSERT INTO site (id, name, kind, standard, district) VALUES ('S1', 'old site', 'plant_outlet', 'GB18918-2002:1A', 'north');
INSERT INTO device (mn, password, site_id, lenient, accept_modbus_crc) VALUES ('OLDMN1', '123456', 'S1', true, false);
INSERT INTO frame (id, received_at_ms, peer, mn, cn, raw, status) VALUES (1, 1748736000000, '127.0.0.1:1', 'OLDMN1', '2051', '##old', 'data');
INSERT INTO frame (id, received_at_ms, peer, mn, cn, raw, status) VALUES (2, 1748736000001, '127.0.0.1:1', NULL, NULL, '##9999', 'rejected: declared length 9999');
INSERT INTO upload (mn, cn, data_time, pno, frame_id) VALUES ('OLDMN1', '2051', 1748736000, 1, 1);
INSERT INTO reading (id, mn, factor, cn, data_time, value, flag, frame_id, received_at_ms) VALUES (1, 'OLDMN1', 'w01018', '2051', 1748736000, 21.5, 'N', 1, 1748736000000);
INSERT INTO aggregate (mn, factor, period, start, n, sum, min, max) VALUES ('OLDMN1', 'w01018', 'hour', 1748736000, 1, 21.5, 21.5, 21.5);
INSERT INTO account (name, role, district, password_hash, disabled, created_at_ms) VALUES ('boss', 'admin', NULL, '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', false, 1);
INSERT INTO alert (site_id, mn, kind, factor, severity, message, data_time, value, limit_text, state, raised_at_ms) VALUES ('S1', 'OLDMN1', 'exceedance', 'w01018', 'warning', 'old', 1748736000, 60, '<= 50', 'acknowledged', 5);
SELECT setval('reading_id_seq', 1);
SELECT setval('frame_id_seq', 2);
