#!/usr/bin/env python3
"""Times the old and new SQL of the SQLite store's `latest(mn)` on an in-memory copy of the
reading schema: one year of 5-minute data for two loggers x 6 factors (docs/benchmarks.md).
Usage: python3 tools/latest_sql_bench.py"""
import sqlite3
import time

db = sqlite3.connect(":memory:")
db.executescript("""
CREATE TABLE reading (id INTEGER PRIMARY KEY, mn TEXT, factor TEXT, cn TEXT, data_time INTEGER,
  value REAL, min REAL, max REAL, cou REAL, flag TEXT, corrects INTEGER, reason TEXT,
  changed_by TEXT, received_at_ms INTEGER);
CREATE INDEX reading_series ON reading(mn, factor, data_time);
CREATE INDEX reading_corrects ON reading(corrects) WHERE corrects IS NOT NULL;
""")
factors = ["w00000", "w01001", "w01018", "w21003", "w21011", "w21001"]
rows = [(mn, f, "2051", t, 1.0, "N") for mn in "AB" for t in range(0, 365 * 86400, 300) for f in factors]
db.executemany("INSERT INTO reading (mn, factor, cn, data_time, value, flag) VALUES (?,?,?,?,?,?)", rows)
db.commit()
EFF = "NOT EXISTS (SELECT 1 FROM reading c WHERE c.corrects = r.id)"
COLS = "r.id, r.mn, r.factor"
OLD = (f"SELECT {COLS} FROM reading r WHERE r.mn = ?1 AND {EFF} AND r.data_time = "
       "(SELECT MAX(r2.data_time) FROM reading r2 WHERE r2.mn = r.mn AND r2.factor = r.factor) "
       "ORDER BY r.factor, r.id DESC")
NEW = (f"WITH RECURSIVE f(factor) AS (SELECT MIN(factor) FROM reading WHERE mn = ?1 UNION ALL "
       "SELECT (SELECT MIN(x.factor) FROM reading x WHERE x.mn = ?1 AND x.factor > f.factor) "
       f"FROM f WHERE f.factor IS NOT NULL) SELECT {COLS} FROM f JOIN reading r ON r.mn = ?1 "
       "AND r.factor = f.factor AND r.data_time = (SELECT MAX(r2.data_time) FROM reading r2 "
       f"WHERE r2.mn = ?1 AND r2.factor = f.factor) WHERE f.factor IS NOT NULL AND {EFF} "
       "ORDER BY r.factor, r.id DESC")
print(f"{len(rows)} readings")
answers = []
for name, q in (("old", OLD), ("new", NEW)):
    t = time.perf_counter()
    r = db.execute(q, ("A",)).fetchall()
    print(f"{name}: {1000 * (time.perf_counter() - t):.2f} ms, {len(r)} rows")
    answers.append(r)
assert answers[0] == answers[1], "the two queries disagree"
