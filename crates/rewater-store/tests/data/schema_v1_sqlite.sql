-- A store as rewater wrote it before versioned migrations (schema version 1), kept to test
-- that a store of the previous version opens and is migrated. Do not edit: it is history.
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS site (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, standard TEXT,
    district TEXT NOT NULL, lon REAL, lat REAL, model_node TEXT);
CREATE TABLE IF NOT EXISTS device (
    mn TEXT PRIMARY KEY, password TEXT NOT NULL, site_id TEXT NOT NULL REFERENCES site(id),
    lenient INTEGER NOT NULL, accept_modbus_crc INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS frame (
    id INTEGER PRIMARY KEY, received_at_ms INTEGER NOT NULL, peer TEXT NOT NULL,
    mn TEXT, cn TEXT, raw TEXT NOT NULL, status TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS frame_received ON frame(received_at_ms);
CREATE TABLE IF NOT EXISTS upload (
    mn TEXT NOT NULL, cn TEXT NOT NULL, data_time INTEGER NOT NULL, pno INTEGER NOT NULL,
    frame_id INTEGER NOT NULL, PRIMARY KEY (mn, cn, data_time, pno)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reading (
    id INTEGER PRIMARY KEY, mn TEXT NOT NULL, factor TEXT NOT NULL, cn TEXT NOT NULL,
    data_time INTEGER NOT NULL, value REAL, min REAL, max REAL, cou REAL, flag TEXT,
    frame_id INTEGER, corrects INTEGER REFERENCES reading(id), reason TEXT, changed_by TEXT,
    received_at_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS reading_series ON reading(mn, factor, data_time);
CREATE INDEX IF NOT EXISTS reading_corrects ON reading(corrects) WHERE corrects IS NOT NULL;
CREATE TABLE IF NOT EXISTS aggregate (
    mn TEXT NOT NULL, factor TEXT NOT NULL, period TEXT NOT NULL, start INTEGER NOT NULL,
    n INTEGER NOT NULL, sum REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL,
    PRIMARY KEY (mn, factor, period, start)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS factor (
    code TEXT PRIMARY KEY, name_zh TEXT NOT NULL, name_en TEXT NOT NULL, unit TEXT NOT NULL, code_2005 TEXT);
CREATE TABLE IF NOT EXISTS alert (
    id INTEGER PRIMARY KEY, site_id TEXT NOT NULL, mn TEXT, kind TEXT NOT NULL, factor TEXT,
    severity TEXT NOT NULL, message TEXT NOT NULL, data_time INTEGER NOT NULL, value REAL,
    limit_text TEXT, state TEXT NOT NULL, raised_at_ms INTEGER NOT NULL, recovered_at_ms INTEGER);
CREATE INDEX IF NOT EXISTS alert_state ON alert(state, id);
CREATE INDEX IF NOT EXISTS alert_key ON alert(site_id, kind, factor);
CREATE TABLE IF NOT EXISTS alert_change (
    alert_id INTEGER NOT NULL REFERENCES alert(id), state TEXT NOT NULL, who TEXT NOT NULL,
    comment TEXT NOT NULL, at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS account (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, district TEXT, password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL, created_at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS credential (
    secret_hash TEXT PRIMARY KEY, account TEXT NOT NULL REFERENCES account(name), kind TEXT NOT NULL,
    csrf TEXT NOT NULL, label TEXT NOT NULL, created_at_ms INTEGER NOT NULL, expires_at_ms INTEGER);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, who TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT NOT NULL, detail TEXT NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1');
INSERT INTO site (id, name, kind, standard, district) VALUES ('S1', 'old site', 'plant_outlet', 'GB18918-2002:1A', 'north');
INSERT INTO device (mn, password, site_id, lenient, accept_modbus_crc) VALUES ('OLDMN1', '123456', 'S1', 1, 0);
INSERT INTO frame (id, received_at_ms, peer, mn, cn, raw, status) VALUES (1, 1748736000000, '127.0.0.1:1', 'OLDMN1', '2051', '##old', 'data');
INSERT INTO frame (id, received_at_ms, peer, mn, cn, raw, status) VALUES (2, 1748736000001, '127.0.0.1:1', NULL, NULL, '##9999', 'rejected: declared length 9999');
INSERT INTO upload (mn, cn, data_time, pno, frame_id) VALUES ('OLDMN1', '2051', 1748736000, 1, 1);
INSERT INTO reading (id, mn, factor, cn, data_time, value, flag, frame_id, received_at_ms) VALUES (1, 'OLDMN1', 'w01018', '2051', 1748736000, 21.5, 'N', 1, 1748736000000);
INSERT INTO aggregate (mn, factor, period, start, n, sum, min, max) VALUES ('OLDMN1', 'w01018', 'hour', 1748736000, 1, 21.5, 21.5, 21.5);
INSERT INTO account (name, role, district, password_hash, disabled, created_at_ms) VALUES ('boss', 'admin', NULL, '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', 0, 1);
INSERT INTO alert (site_id, mn, kind, factor, severity, message, data_time, value, limit_text, state, raised_at_ms) VALUES ('S1', 'OLDMN1', 'exceedance', 'w01018', 'warning', 'old', 1748736000, 60, '<= 50', 'acknowledged', 5);
