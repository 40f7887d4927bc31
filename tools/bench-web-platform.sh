#!/usr/bin/env bash
# Issue 13 figures: series latency (rewater-bench web), the new daily and report endpoints on
# the same year of data, and the overview after login in the browser test. Debug build.
set -u
cd "$(dirname "$0")/.."
# Build first: cargo build -p rewater-bench -p rewater-cli; cargo test -p rewater-cli --test web_platform --no-run
db=target/bench-web-platform.sqlite
test_bin=$(ls target/debug/deps/web_platform-* | grep -v "\.d$" | head -1)
[ "${SKIP_SERIES:-}" ] || { echo "== rewater-bench web (debug build)"
target/debug/rewater-bench web --requests 300 --db "$db"; }
echo "== daily and report endpoints on a year of 5-minute data"
REWATER_API_TOKEN=bench-token-123 target/debug/rewater serve --db "$db" --listen 127.0.0.1:29212 --api-listen 127.0.0.1:28212 --max-data-age-days 7305 >target/bench-web-platform-serve.log 2>&1 &
pid=$!
for i in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:28212/api/health && break; sleep 0.1; done
t() { # name url n
  local name=$1 url=$2 n=$3; local all=()
  for i in $(seq "$n"); do all+=("$(curl -s -o /dev/null -w '%{time_total}' -H 'Authorization: Bearer bench-token-123' "http://127.0.0.1:28212$url")"); done
  printf '%s\n' "${all[@]}" | sort -n | awk -v name="$name" '{a[NR]=$1} END {printf "%s: n=%d p50=%.1f ms max=%.1f ms\n", name, NR, 1000*a[int((NR+1)/2)], 1000*a[NR]}'
}
t "daily, 7 days" "/api/sites/plant-north-outlet/daily?from=2025-06-01&to=2025-06-08" 20
t "daily, 31 days" "/api/sites/plant-north-outlet/daily?from=2025-06-01&to=2025-07-02" 10
t "series, one day (site page default)" "/api/sites/plant-north-outlet/series?factor=cod&from=2025-06-01&to=2025-06-02&points=1000" 50
t "monthly report XLSX" "/api/exports/report?kind=monthly&month=2025-06&format=xlsx" 5
t "daily report CSV" "/api/exports/report?kind=daily&date=2025-06-01&format=csv" 10
kill "$pid"
echo "== browser: overview after login"
for run in ${RUNS:-1 2 3}; do "$test_bin" --nocapture 2>&1 | grep -E "overview usable|test result"; done
