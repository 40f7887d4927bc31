-- latest_pg_bench.sql: Store::latest's old (DISTINCT ON) and new (loose index scan) queries on a
-- year of 5-minute data (3 loggers x 6 factors, monthly partitions) in schema rw_latest of db test.
-- psql -q -h 127.0.0.1 -U postgres -d test -f tools/latest_pg_bench.sql
DROP SCHEMA IF EXISTS rw_latest CASCADE; CREATE SCHEMA rw_latest; SET search_path = rw_latest;
CREATE SEQUENCE reading_id_seq;
CREATE TABLE reading (
    id BIGINT NOT NULL DEFAULT nextval('reading_id_seq'), mn TEXT NOT NULL, factor TEXT NOT NULL,
    cn TEXT NOT NULL, data_time BIGINT NOT NULL, value DOUBLE PRECISION, min DOUBLE PRECISION,
    max DOUBLE PRECISION, cou DOUBLE PRECISION, flag TEXT, frame_id BIGINT, corrects BIGINT,
    reason TEXT, changed_by TEXT, received_at_ms BIGINT NOT NULL
) PARTITION BY RANGE (data_time);
CREATE INDEX reading_series ON reading (mn, factor, data_time);
CREATE INDEX reading_corrects ON reading (corrects) WHERE corrects IS NOT NULL;
DO $$ BEGIN FOR m IN 0..11 LOOP
 EXECUTE format('CREATE TABLE reading_%s PARTITION OF reading FOR VALUES FROM (%s) TO (%s)', m, 1735689600 + m*2678400, 1735689600 + (m+1)*2678400);
END LOOP; END $$;
INSERT INTO reading (mn, factor, cn, data_time, value, received_at_ms)
SELECT 'MN' || d, f, '2051', 1735689600 + t*300, random(), 0
FROM generate_series(1,3) d, unnest(ARRAY['w01018','w21003','w21011','w00000','w01001','w21001']) f, generate_series(0, 105000) t;
ANALYZE reading;
\timing on
SELECT count(*) FROM (SELECT DISTINCT ON (r.factor) r.* FROM reading r WHERE r.mn = 'MN2' AND NOT EXISTS (SELECT 1 FROM reading c WHERE c.corrects = r.id) ORDER BY r.factor, r.data_time DESC, r.id DESC) x;
SELECT count(*) FROM (WITH RECURSIVE f(factor) AS (
                 SELECT MIN(factor) FROM reading WHERE mn = 'MN2'
                 UNION ALL
                 SELECT (SELECT MIN(x.factor) FROM reading x WHERE x.mn = 'MN2' AND x.factor > f.factor)
                 FROM f WHERE f.factor IS NOT NULL)
             SELECT r.* FROM f JOIN reading r
               ON r.mn = 'MN2' AND r.factor = f.factor
              AND r.data_time = (SELECT MAX(r2.data_time) FROM reading r2 WHERE r2.mn = 'MN2' AND r2.factor = f.factor)
             WHERE f.factor IS NOT NULL AND NOT EXISTS (SELECT 1 FROM reading c WHERE c.corrects = r.id)
             ORDER BY r.factor, r.id DESC) y;
SELECT count(*) FROM (WITH RECURSIVE f(factor) AS (
                 SELECT MIN(factor) FROM reading WHERE mn = 'MN2'
                 UNION ALL
                 SELECT (SELECT MIN(x.factor) FROM reading x WHERE x.mn = 'MN2' AND x.factor > f.factor)
                 FROM f WHERE f.factor IS NOT NULL)
             SELECT r.* FROM f JOIN reading r
               ON r.mn = 'MN2' AND r.factor = f.factor
              AND r.data_time = (SELECT MAX(r2.data_time) FROM reading r2 WHERE r2.mn = 'MN2' AND r2.factor = f.factor)
             WHERE f.factor IS NOT NULL AND NOT EXISTS (SELECT 1 FROM reading c WHERE c.corrects = r.id)
             ORDER BY r.factor, r.id DESC) y;
DROP SCHEMA rw_latest CASCADE;
