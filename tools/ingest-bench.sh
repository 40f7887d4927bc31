#!/usr/bin/env bash
# ingest-bench.sh BIN_DIR NAME [extra serve flags]: the TCP ingest benchmark of
# docs/benchmarks.md — 10,000 simulated data loggers × 40 minute uploads at 1/s into a fresh
# SQLite store; prints the simulator's report and the store's size. BIN_DIR holds `rewater`
# (e.g. target/release). Older builds without the hardening flags are run without them.
set -u
bin=$1; name=$2; shift 2
db=${TMPDIR:-/tmp}/ingest-$name.sqlite; rm -f "$db" "$db-wal" "$db-shm"
port=$((19300 + RANDOM % 500))
log=${TMPDIR:-/tmp}/ingest-$name.serve.log
extra=""
if "$bin/rewater" serve --help | grep -q max-connections-per-address; then
  extra="--max-data-age-days 7305 --max-connections-per-address 20000"
fi
# shellcheck disable=SC2086
"$bin/rewater" serve --db "$db" --listen 127.0.0.1:$port --api-listen 127.0.0.1:$((port + 1000)) \
  --sim-devices 10000 $extra "$@" > "$log" 2>&1 &
pid=$!
sleep 4
pw=$(grep -o 'password: [^ ]*' "$log" | head -1 | cut -d' ' -f2)
pwflag=""; [ -n "$pw" ] && pwflag="--password $pw"
# shellcheck disable=SC2086
"$bin/rewater" hj212 sim --to 127.0.0.1:$port --devices 10000 --frames 40 --interval-ms 1000 \
  --start 20250601000000 $pwflag 2>&1 | tail -7
kill -INT $pid; wait $pid 2>/dev/null
ls -l "$db"* | awk '{print $5, $9}'
