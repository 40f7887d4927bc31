#!/usr/bin/env bash
# pg-settings.sh tuned|reset|show: the PostgreSQL server settings of docs/benchmarks.md's
# "tuned" province runs (docs/scale.md, step 2), applied to the local cluster with
# `ALTER SYSTEM` and a restart, or reset to the distribution's defaults. The settings are
# the server's own (they cannot be set per connection), so a run that tunes resets after.
set -eu
psql="psql -q -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1"
restart() {
  if command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster "$(pg_lsclusters -h | awk 'NR==1 {print $1}')" main restart
  else
    service postgresql restart
  fi
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 && return 0; sleep 1; done
  echo "PostgreSQL did not come back within 30 s" >&2; return 1
}
case "${1:-show}" in
  tuned)
    # Room for the hot index edges and the hour's aggregates (≈ 50 kB per logger), WAL for
    # minutes between checkpoints, compressed full-page images.
    $psql -c "ALTER SYSTEM SET shared_buffers = '2GB'" -c "ALTER SYSTEM SET max_wal_size = '16GB'" \
      -c "ALTER SYSTEM SET checkpoint_timeout = '15min'" -c "ALTER SYSTEM SET wal_compression = 'lz4'" \
      -c "ALTER SYSTEM SET wal_buffers = '64MB'"
    restart ;;
  reset) $psql -c "ALTER SYSTEM RESET ALL"; restart ;;
  show) ;;
  *) echo "usage: $0 tuned|reset|show" >&2; exit 2 ;;
esac
$psql -At -c "SELECT name || ' = ' || setting || COALESCE(' ' || unit, '') FROM pg_settings
  WHERE name IN ('shared_buffers', 'max_wal_size', 'checkpoint_timeout', 'wal_compression',
                 'wal_buffers', 'synchronous_commit', 'autovacuum') ORDER BY name"
