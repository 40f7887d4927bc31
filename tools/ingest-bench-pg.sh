#!/usr/bin/env bash
# ingest-bench-pg.sh BIN_DIR NAME [extra serve flags]: the TCP ingest benchmark of
# docs/benchmarks.md on PostgreSQL — 10,000 simulated data loggers × 40 minute uploads at 1/s
# into a fresh schema `rw_bench_NAME` of database `test` on 127.0.0.1:5432 (dropped after);
# prints the simulator's report, the gateway's counters and what the schema holds.
# Environment: REWATER_PG_STEPWISE=1 runs the older statement-per-step writer; DEVICES,
# FRAMES, INTERVAL_MS change the load.
set -u
bin=$1; name=$2; shift 2
devices=${DEVICES:-10000}; frames=${FRAMES:-40}; interval=${INTERVAL_MS:-1000}
schema=rw_bench_$name
export PGOPTIONS="--client-min-messages=warning"
psql="psql -q -h 127.0.0.1 -U postgres -d test -v ON_ERROR_STOP=1"
$psql -c "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" || exit 1
url="postgres://postgres@127.0.0.1:5432/test?options=-csearch_path%3D$schema"
port=$((19300 + RANDOM % 500))
log=${TMPDIR:-/tmp}/ingest-$name.serve.log
# shellcheck disable=SC2086
"$bin/rewater" serve --db "$url" --listen 127.0.0.1:$port --api-listen 127.0.0.1:$((port + 1000)) \
  --sim-devices "$devices" --max-data-age-days 7305 --max-connections-per-address 20000 "$@" \
  > "$log" 2>&1 &
pid=$!
sleep 6
pw=$(grep -o 'password: [^ ]*' "$log" | head -1 | cut -d' ' -f2)
"$bin/rewater" hj212 sim --to 127.0.0.1:$port --devices "$devices" --frames "$frames" \
  --interval-ms "$interval" --start 20250601000000 --password "$pw" 2>&1 | tail -7
kill -INT $pid; wait $pid 2>/dev/null
grep -E "acks|p99|stored" "$log" | tail -3
$psql -t -c "SELECT 'uploads', count(*) FROM $schema.upload UNION ALL SELECT 'readings', count(*) FROM $schema.reading"
$psql -c "DROP SCHEMA $schema CASCADE"
