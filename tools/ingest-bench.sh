#!/usr/bin/env bash
# ingest-bench.sh BIN_DIR NAME [extra serve flags]: the TCP ingest benchmark of
# docs/benchmarks.md — 10,000 simulated data loggers × 40 minute uploads at 1/s into a fresh
# SQLite store; prints the simulator's report and the store's size. BIN_DIR holds `rewater`
# (e.g. target/release). Older builds without the hardening flags are run without them.
# Environment: FRAMES, INTERVAL_MS change the load (40 uploads each at 1/s); SIM_FLAGS adds
# simulator flags (e.g. --by-second), as in ingest-bench-pg.sh.
set -u
bin=$1; name=$2; shift 2
frames=${FRAMES:-40}; interval=${INTERVAL_MS:-1000}
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
# The gateway's CPU (its own process) and the simulator's (/usr/bin/time), apart.
cpu0=$(awk '{print $14 + $15}' /proc/$pid/stat)
simout=${TMPDIR:-/tmp}/ingest-$name.sim
# shellcheck disable=SC2086
/usr/bin/time -f "simulator CPU: %U s user, %S s system" "$bin/rewater" hj212 sim --to 127.0.0.1:$port \
  --devices 10000 --frames "$frames" --interval-ms "$interval" --start 20250601000000 $pwflag \
  ${SIM_FLAGS:-} > "$simout" 2>&1
grep -E '^  "[a-z_0-9]+": [^[]|^simulator CPU' "$simout"  # the totals, not --by-second's entries
cpu1=$(awk '{print $14 + $15}' /proc/$pid/stat)
kill -INT $pid; wait $pid 2>/dev/null
ls -l "$db"* | awk '{print $5, $9}'
readings=$(sqlite3 "$db" 'SELECT count(*) FROM reading' 2>/dev/null || echo 0)
sim_cpu=$(sed -n 's/^simulator CPU: \([0-9.]*\) s user, \([0-9.]*\) s system/\1 \2/p' "$simout" | awk '{print $1 + $2}')
awk -v g="$((cpu1 - cpu0))" -v hz="$(getconf CLK_TCK)" -v n="$readings" -v sim="${sim_cpu:-0}" 'BEGIN {
  if (n > 0) printf "CPU µs per reading: gateway (with SQLite) %.1f, simulator %.1f (%d readings)\n",
  1e6 * g / hz / n, 1e6 * sim / n, n}'
