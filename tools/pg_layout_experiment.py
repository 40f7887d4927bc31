"""Issue 19 experiment (docs/benchmarks.md): PostgreSQL backend CPU per reading for one row per
reading (the store's layout) against one row per upload with the factors' values in arrays.

    pip install "psycopg[binary]"; python3 tools/pg_layout_experiment.py per_reading per_upload

Batches of 40 uploads of 6 readings by binary COPY, one transaction each, synchronous_commit
on, into a scratch schema rw_exp of database test on 127.0.0.1 (dropped after); UPLOADS sets
the number of uploads (100,000)."""
import os, sys, time, psycopg

UPLOADS = int(os.environ.get("UPLOADS", "100000"))
BATCH = 40
FACTORS = ["w01018", "w21003", "w21011", "w21001", "w01001", "w00000"]
DEVICES = 10000

def ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return int(parts[11]) + int(parts[12])

SCHEMA_A = """
CREATE SEQUENCE reading_id_seq;
CREATE TABLE reading (
    id BIGINT NOT NULL DEFAULT nextval('reading_id_seq'), mn TEXT NOT NULL, factor TEXT NOT NULL,
    cn TEXT NOT NULL, data_time BIGINT NOT NULL, value DOUBLE PRECISION, min DOUBLE PRECISION,
    max DOUBLE PRECISION, cou DOUBLE PRECISION, flag TEXT, frame_id BIGINT, corrects BIGINT,
    reason TEXT, changed_by TEXT, received_at_ms BIGINT NOT NULL
) PARTITION BY RANGE (data_time);
CREATE TABLE reading_p PARTITION OF reading FOR VALUES FROM (0) TO (99999999999999);
CREATE INDEX reading_series ON reading (mn, factor, data_time);
CREATE INDEX reading_id ON reading USING brin (id);
CREATE INDEX reading_corrects ON reading (corrects) WHERE corrects IS NOT NULL;
"""
SCHEMA_B = """
CREATE SEQUENCE reading_id_seq;
CREATE TABLE reading (
    id BIGINT NOT NULL DEFAULT nextval('reading_id_seq'), mn TEXT NOT NULL, cn TEXT NOT NULL,
    data_time BIGINT NOT NULL, factor TEXT[] NOT NULL, value DOUBLE PRECISION[],
    min DOUBLE PRECISION[], max DOUBLE PRECISION[], cou DOUBLE PRECISION[], flag TEXT[],
    frame_id BIGINT, received_at_ms BIGINT NOT NULL
) PARTITION BY RANGE (data_time);
CREATE TABLE reading_p PARTITION OF reading FOR VALUES FROM (0) TO (99999999999999);
CREATE INDEX reading_series ON reading (mn, data_time);
CREATE INDEX reading_id ON reading USING brin (id);
"""

def run(layout):
    conn = psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True)
    conn.execute("DROP SCHEMA IF EXISTS rw_exp CASCADE; CREATE SCHEMA rw_exp")
    conn.execute("SET search_path = rw_exp")
    conn.execute("SET synchronous_commit = on")
    schema = {"per_reading": SCHEMA_A, "per_upload": SCHEMA_B,
              "per_reading_mn_time": SCHEMA_A.replace("(mn, factor, data_time)", "(mn, data_time)")}
    conn.execute(schema[layout])
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    t0, c0 = time.perf_counter(), ticks(pid)
    frame = 0
    for b in range(UPLOADS // BATCH):
        with conn.transaction():
            with conn.cursor() as cur:
                if layout != "per_upload":
                    sql = ("COPY reading (mn, factor, cn, data_time, value, min, max, cou, flag, "
                           "frame_id, received_at_ms) FROM STDIN (FORMAT binary)")
                    with cur.copy(sql) as cp:
                        cp.set_types(["text", "text", "text", "int8", "float8", "float8", "float8",
                                      "float8", "text", "int8", "int8"])
                        for k in range(BATCH):
                            u = b * BATCH + k
                            mn = f"8888888{u % DEVICES:07d}"
                            dt = 20250601000000 + (u // DEVICES) * 100
                            frame += 1
                            for i, f in enumerate(FACTORS):
                                v = float(u % 97) + i
                                cp.write_row((mn, f, "2011", dt, v, None, None, None, "N", frame, 1733000000000 + u))
                else:
                    sql = ("COPY reading (mn, cn, data_time, factor, value, min, max, cou, flag, "
                           "frame_id, received_at_ms) FROM STDIN (FORMAT binary)")
                    with cur.copy(sql) as cp:
                        cp.set_types(["text", "text", "int8", "text[]", "float8[]", "float8[]",
                                      "float8[]", "float8[]", "text[]", "int8", "int8"])
                        for k in range(BATCH):
                            u = b * BATCH + k
                            mn = f"8888888{u % DEVICES:07d}"
                            dt = 20250601000000 + (u // DEVICES) * 100
                            frame += 1
                            vals = [float(u % 97) + i for i in range(len(FACTORS))]
                            none = [None] * len(FACTORS)
                            cp.write_row((mn, "2011", dt, FACTORS, vals, none, none, none,
                                          ["N"] * len(FACTORS), frame, 1733000000000 + u))
    wall = time.perf_counter() - t0
    cpu_s = (ticks(pid) - c0) / os.sysconf("SC_CLK_TCK")
    readings = UPLOADS * len(FACTORS)
    size = conn.execute("SELECT pg_total_relation_size('reading_p')").fetchone()[0]
    conn.execute("DROP SCHEMA rw_exp CASCADE")
    print(f"{layout}: {readings} readings in {UPLOADS // BATCH} transactions, backend CPU {cpu_s:.2f} s "
          f"= {cpu_s / readings * 1e6:.2f} µs/reading, wall {wall:.1f} s, table+indexes {size / 1e6:.0f} MB")

for layout in sys.argv[1:]:
    run(layout)
