"""Summarise `rewater hj212 sim --by-second` output (docs/benchmarks.md, issue 19): the run's
totals, the median and 90th percentile of the per-second ack p99, and the seconds whose p99
passed a limit (default 100 ms), to put the tail of a long run beside the gateway's log.

    python3 tools/by_second.py /tmp/ingest-NAME.sim [LIMIT_MS]

The file holds the simulator's JSON report followed by other text (the bench scripts append
to it); only the JSON is read."""
import json, sys

def main():
    path = sys.argv[1]
    limit = float(sys.argv[2]) if len(sys.argv) > 2 else 100.0
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        report, _ = json.JSONDecoder().raw_decode(text[text.index("{"):])
    except (ValueError, json.JSONDecodeError) as e:
        sys.exit(f"{path}: no simulator report ({e})")
    secs = report.get("by_second") or []
    if not secs:
        sys.exit(f"{path}: no by_second entries (run the simulator with --by-second)")
    p99 = sorted(s["ack_latency_ms_p99"] for s in secs)
    pick = lambda q: p99[min(len(p99) - 1, int(q * len(p99)))]
    slow = [s for s in secs if s["ack_latency_ms_p99"] > limit]
    print(f"readings/s {report['readings_per_s']:.0f}, ack p50 {report['ack_latency_ms_p50']:.1f} ms, "
          f"p99 {report['ack_latency_ms_p99']:.1f} ms, max {report['ack_latency_ms_max']:.1f} ms")
    print(f"{len(secs)} seconds: per-second p99 median {pick(0.5):.1f} ms, 90th percentile "
          f"{pick(0.9):.1f} ms, largest {p99[-1]:.1f} ms; {len(slow)} seconds over {limit:g} ms")
    if slow:
        shown = ", ".join(f"{s['second']} ({s['ack_latency_ms_p99']:.0f})" for s in slow[:40])
        print("slow seconds:", shown + (f", … {len(slow) - 40} more" if len(slow) > 40 else ""))

if __name__ == "__main__":
    main()
