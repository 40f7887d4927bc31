#!/usr/bin/env bash
# Run a benchmark on a quiet machine: pause every build, test and helper process that is not
# this command's own (by name: cargo, rustc, linkers, node, chromium, rewater*, python; or by a
# working directory in a worktree), run the command, resume them. Services (PostgreSQL,
# Mosquitto, NATS…) are never paused.
# usage: tools/quiet.sh OWN_DIR -- command args...   (keep the command under ~5 minutes)
# The folders whose processes are paused: this repository's git worktrees, or QUIET_DIRS (a
# space-separated list) when it is set.
set -u
own="$(realpath "$1")"; shift; [ "${1:-}" = "--" ] && shift
exec 9>"${TMPDIR:-/tmp}/rewater-quiet.lock"
flock -x 9
dirs="${QUIET_DIRS:-$(git -C "$own" worktree list --porcelain 2>/dev/null | sed -n 's/^worktree //p' | tr '\n' ' ')}"
# This script's own ancestors must not be paused (the caller's shell).
declare -A mine
p=$$
while [ "$p" -gt 1 ]; do mine[$p]=1; p=$(awk '{print $4}' /proc/$p/stat 2>/dev/null || echo 1); done
stopped=()
for d in /proc/[0-9]*; do
  pid=${d#/proc/}
  [ -n "${mine[$pid]:-}" ] && continue
  comm=$(cat "$d/comm" 2>/dev/null) || continue
  cwd=$(readlink "$d/cwd" 2>/dev/null || true)
  hit=0
  case "$comm" in
    cargo|rustc|cc|cc1|ld|collect2|ld.lld|lld|node|chromium|chrome|chromedriver|rewater|rewater-bench|python3|python|swmm*|cargo-*|build-script-*|clippy-driver|rustdoc) hit=1 ;;
  esac
  for d in $dirs; do case "$cwd" in "$d"|"$d"/*) hit=1 ;; esac; done
  case "$cwd" in "$own"|"$own"/*) [ "$comm" = cargo ] || [ "$comm" = rustc ] || hit=0 ;; esac
  [ "$hit" = 1 ] || continue
  kill -STOP "$pid" 2>/dev/null && stopped+=("$pid")
done
echo "quiet.sh: paused ${#stopped[@]} processes" >&2
trap 'for s in "${stopped[@]}"; do kill -CONT "$s" 2>/dev/null; done' EXIT
"$@"
