#!/usr/bin/env bash
# ingest-bench-pg.sh BIN_DIR NAME [extra serve flags]: the TCP ingest benchmark of
# docs/benchmarks.md on PostgreSQL — 10,000 simulated data loggers × 40 minute uploads at 1/s
# into a fresh schema `rw_bench_NAME` of database `test` on 127.0.0.1:5432 (dropped after);
# prints the simulator's report, the gateway's counters and what the schema holds.
# Environment: REWATER_PG_STEPWISE=1 runs the older statement-per-step writer; DEVICES,
# FRAMES, INTERVAL_MS change the load; SIM_FLAGS adds simulator flags (e.g. --by-second,
# whose per-second entries stay in $TMPDIR/ingest-NAME.sim beside the printed totals).
set -u
bin=$1; name=$2; shift 2
devices=${DEVICES:-10000}; frames=${FRAMES:-40}; interval=${INTERVAL_MS:-1000}
schema=rw_bench_$name
export PGOPTIONS="--client-min-messages=warning"
psql="psql -q -h 127.0.0.1 -U postgres -d test -v ON_ERROR_STOP=1"
$psql -c "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" || exit 1
# PG_OPTIONS: more connection settings for the gateway's sessions, URL-encoded
# (e.g. `%20-cwal_compression%3Dlz4`): what a deployment can put in its own database URL.
# PG_SOCKET=DIR: the gateway reaches PostgreSQL through its Unix socket in DIR (e.g.
# /var/run/postgresql), as a gateway on the database's own machine would, instead of TCP.
if [ -n "${PG_SOCKET:-}" ]; then
  url="postgres://postgres@/test?host=$PG_SOCKET&options=-csearch_path%3D$schema${PG_OPTIONS:-}"
else
  url="postgres://postgres@127.0.0.1:5432/test?options=-csearch_path%3D$schema${PG_OPTIONS:-}"
fi
port=$((19300 + RANDOM % 500))
log=${TMPDIR:-/tmp}/ingest-$name.serve.log
# shellcheck disable=SC2086
"$bin/rewater" serve --db "$url" --listen 127.0.0.1:$port --api-listen 127.0.0.1:$((port + 1000)) \
  --sim-devices "$devices" --max-data-age-days 7305 --max-connections-per-address 20000 "$@" \
  > "$log" 2>&1 &
pid=$!
sleep 6
vmstat 5 12 > "${TMPDIR:-/tmp}/ingest-$name.vmstat" &
vm=$!
# PostgreSQL's own work during the run: checkpoints, WAL written and synced, buffers.
pgstat="SELECT checkpoints_timed, checkpoints_req, buffers_checkpoint, buffers_backend,
  (SELECT wal_bytes FROM pg_stat_wal), (SELECT wal_sync FROM pg_stat_wal),
  (SELECT wal_buffers_full FROM pg_stat_wal) FROM pg_stat_bgwriter"
before=$($psql -At -F' ' -c "$pgstat")
pglog=/var/log/postgresql/postgresql-15-main.log
pglines=$( [ -r $pglog ] && wc -l < $pglog || echo 0)
cpu0=$(awk '{print $14 + $15}' /proc/$pid/stat)
# CPU seconds by process name over the run (postgres backends, anything else); the gateway
# (`rewater serve`, pid $pid) is named `gateway`, any other `rewater` (the simulator, which
# has ended by the second count: its CPU comes from /usr/bin/time) `rewater-other`.
cpu_by_comm() { for f in /proc/[0-9]*/stat; do cat "$f" 2>/dev/null; done |
  sed 's/^\([0-9]*\) (\(.*\)) [A-Z] /\1 \2 /' |
  awk -v gw="$pid" '{k = $2; if ($1 == gw) k = "gateway"; else if (k == "rewater") k = "rewater-other";
    c[k] += $13 + $14} END {for (k in c) print k, c[k]}'; }
cpu_by_comm > "${TMPDIR:-/tmp}/ingest-$name.cpu0"
[ -n "${PERF:-}" ] && (sleep 15; perf record -F 199 -a -o "${TMPDIR:-/tmp}/ingest-$name.perf" -- sleep 10 >/dev/null 2>&1) &
pw=$(grep -o 'password: [^ ]*' "$log" | head -1 | cut -d' ' -f2)
simout=${TMPDIR:-/tmp}/ingest-$name.sim
echo "simulator started: $(date -u +%H:%M:%S.%N | cut -c1-12) UTC"
/usr/bin/time -f "simulator CPU: %U s user, %S s system" "$bin/rewater" hj212 sim --to 127.0.0.1:$port --devices "$devices" --frames "$frames" \
  --interval-ms "$interval" --start 20250601000000 --password "$pw" ${SIM_FLAGS:-} > "$simout" 2>&1
grep -E '^  "[a-z_0-9]+": [^[]|^simulator CPU' "$simout"  # the totals, not --by-second's entries
cpu1=$(awk '{print $14 + $15}' /proc/$pid/stat)
cpu_by_comm > "${TMPDIR:-/tmp}/ingest-$name.cpu1"
echo "CPU s by process name during the run (largest first):"
awk -v hz="$(getconf CLK_TCK)" 'NR==FNR {a[$1]=$2; next} {d=($2-a[$1])/hz; if (d >= 0.5) printf "%s %.1f\n", $1, d}' \
  "${TMPDIR:-/tmp}/ingest-$name.cpu0" "${TMPDIR:-/tmp}/ingest-$name.cpu1" | sort -k2 -nr | head -8 | tr '\n' ';'; echo
after=$($psql -At -F' ' -c "$pgstat")
kill -INT $pid; wait $pid 2>/dev/null
kill $vm 2>/dev/null
echo "vmstat (5 s): us sy id wa st"; awk 'NR>3 {printf "%s %s %s %s %s | ", $13, $14, $15, $16, $17} END {print ""}' "${TMPDIR:-/tmp}/ingest-$name.vmstat"
grep -E "^stopped" "$log" | tail -1
echo "gateway CPU during the run: $(( (cpu1 - cpu0) / $(getconf CLK_TCK) )) s"
grep -E "writer stopped|aggregate fold stopped" "$log" | sed 's/^.*INFO //'
echo "slow batch commits (>= 80 ms): $(grep -c 'slow batch commit' "$log")"
grep 'slow batch commit' "$log" | head -5 | cut -c1-140
echo "PostgreSQL before: $before"
echo "PostgreSQL after:  $after  (checkpoints timed/requested, buffers by checkpoint/backend, WAL bytes, WAL syncs, WAL buffers full)"
[ -r $pglog ] && tail -n +$((pglines + 1)) $pglog | grep -E "checkpoint|autovacuum|WARN|ERROR" | cut -c1-200 | head
$psql -t -c "SELECT 'uploads', count(*) FROM $schema.upload UNION ALL SELECT 'readings', count(*) FROM $schema.reading"
# CPU per stored reading, by process: PostgreSQL's backends, the gateway, the simulator.
readings=$($psql -At -c "SELECT count(*) FROM $schema.reading")
sim_cpu=$(sed -n 's/^simulator CPU: \([0-9.]*\) s user, \([0-9.]*\) s system/\1 \2/p' "$simout" | awk '{print $1 + $2}')
awk -v hz="$(getconf CLK_TCK)" -v n="$readings" -v sim="${sim_cpu:-0}" 'NR==FNR {a[$1]=$2; next}
  {d[$1] = ($2 - a[$1]) / hz} END {if (n > 0) printf "CPU µs per reading: postgres %.1f, gateway %.1f, simulator %.1f (%d readings)\n",
  1e6 * d["postgres"] / n, 1e6 * d["gateway"] / n, 1e6 * sim / n, n}' \
  "${TMPDIR:-/tmp}/ingest-$name.cpu0" "${TMPDIR:-/tmp}/ingest-$name.cpu1"
$psql -c "DROP SCHEMA $schema CASCADE"
