#!/usr/bin/env python3
"""Reference numbers for rewater's overflow engine from EPA SWMM 5.

Runs the SWMM input files in crates/rewater-overflow/tests/swmm/ with the SWMM 5.2
engine that the swmm-toolkit wheel bundles (pip install swmm-toolkit; nothing of
SWMM's is kept in this repository), and writes reference.json beside them: annual
overflow volume per overflow outfall, overflow events per year (same event rules as
rewater: rain events split by 6 dry hours, overflow attributed to the latest started
event, an event counts when it overflows at least 1 m3), and SWMM's wall time.

    python3 tools/swmm_reference.py            # all cases
    python3 tools/swmm_reference.py --rain     # also regenerate rain.dat
    python3 tools/swmm_reference.py --time FILE.inp   # only time SWMM on one file

The rain record rain.dat is synthetic (a seeded generator below, North-China monsoon
shape, ~550 mm/yr); it is committed so that the reference does not depend on Python's
random module staying the same.
"""
import argparse
import datetime as dt
import json
import math
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent / "crates" / "rewater-overflow" / "tests" / "swmm"
FLOW_TO_CMS = {"CMS": 1.0, "LPS": 0.001, "MLD": 0.01157407, "CFS": 0.02831685,
               "GPM": 6.30902e-5, "MGD": 0.04381264}
CASES = {
    "tank.inp": ["OF1"],
    "chain.inp": ["OUT1", "OUT2"],
    "inline.inp": ["RIVER"],
}
INTER_EVENT_H = 6
MIN_OVERFLOW_M3 = 1.0


def make_rain(path, start_year=2011, years=5, seed=20261122):
    """Hourly rain, station STA1, SWMM user format: STA y m d h min mm."""
    p_wet = [0.04, 0.05, 0.08, 0.12, 0.16, 0.25, 0.40, 0.35, 0.22, 0.12, 0.07, 0.04]
    mean_mm = [2.5, 3.0, 4.5, 6.0, 8.0, 12.0, 17.0, 16.0, 11.0, 7.0, 4.0, 2.5]
    rng = random.Random(seed)
    day = dt.datetime(start_year, 1, 1)
    end = dt.datetime(start_year + years, 1, 1)
    hours = {}
    wet_yesterday = False
    while day < end:
        m = day.month - 1
        p = min(p_wet[m] * 1.8, 0.9) if wet_yesterday else p_wet[m]
        wet_yesterday = rng.random() < p
        if wet_yesterday:
            total = rng.expovariate(1.0 / mean_mm[m]) + 0.2
            n = min(int(1 + rng.expovariate(1.0 / 4.0)), 30)
            first = int(rng.random() * 24)
            peak = rng.random() * n
            w = [1.0 / (1.0 + abs(h + 0.5 - peak)) for h in range(n)]
            s = sum(w)
            for h in range(n):
                t = day + dt.timedelta(hours=first + h)
                if t < end:
                    v = round(total * w[h] / s * 10) / 10
                    if v > 0:
                        hours[t] = round(hours.get(t, 0.0) + v, 1)
        day += dt.timedelta(days=1)
    with open(path, "w") as f:
        for t in sorted(hours):
            f.write(f"STA1 {t.year} {t.month} {t.day} {t.hour} 0 {hours[t]:.1f}\n")


def read_rain(path):
    out = []
    for line in open(path):
        s, y, mo, d, h, mi, v = line.split()
        out.append((dt.datetime(int(y), int(mo), int(d), int(h), int(mi)), float(v)))
    return out


def rain_events(rain):
    events = []  # [start, end, depth]
    for t, v in rain:
        if v <= 0:
            continue
        if events and (t - events[-1][1]) < dt.timedelta(hours=INTER_EVENT_H):
            events[-1][1] = t + dt.timedelta(hours=1)
            events[-1][2] += v
        else:
            events.append([t, t + dt.timedelta(hours=1), v])
    return events


def flow_units(inp):
    for line in open(inp):
        parts = line.split()
        if len(parts) >= 2 and parts[0].upper() == "FLOW_UNITS":
            return parts[1].upper()
    return "CFS"


def quiet_run(inp, rpt, out):
    """swmm_run with SWMM's progress lines (C-level stdout) sent to /dev/null."""
    import os
    from swmm.toolkit import solver
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        t0 = time.perf_counter()
        solver.swmm_run(str(inp), str(rpt), str(out))
        return time.perf_counter() - t0
    finally:
        os.dup2(saved, 1)
        os.close(devnull)
        os.close(saved)


def set_routing_step(path, seconds):
    """Rewrite ROUTING_STEP of the .inp copy at `path` to `seconds` (the only change)."""
    lines = path.read_text().splitlines(keepends=True)
    hms = f"0:{seconds // 60:02d}:{seconds % 60:02d}"
    out = [f"ROUTING_STEP {hms}\n" if l.split()[:1] == ["ROUTING_STEP"] else l for l in lines]
    if out == lines:
        raise SystemExit(f"{path}: no ROUTING_STEP line to change")
    path.write_text("".join(out))


def set_report_averages(path):
    """Ask SWMM (5.1.013 and later) to save each reporting period's average of its
    routing steps instead of the value at the reporting instant, so that volumes summed
    from the series are exact sums of the routing steps, not samples of the peaks."""
    lines = path.read_text().splitlines(keepends=True)
    out, done = [], False
    for l in lines:
        out.append(l)
        if not done and l.strip().upper() == "[REPORT]":
            out.append("AVERAGES YES\n")
            done = True
    if not done:
        out.append("\n[REPORT]\nAVERAGES YES\n")
    path.write_text("".join(out))


def run_swmm(inp, workdir, rain_dat=None, routing_step_s=None, averages=False):
    shutil.copy(inp, workdir / inp.name)
    if routing_step_s is not None:
        set_routing_step(workdir / inp.name, routing_step_s)
    if averages:
        set_report_averages(workdir / inp.name)
    rain_dat = rain_dat or HERE / "rain.dat"
    if rain_dat.exists():
        shutil.copy(rain_dat, workdir / "rain.dat")
    rpt = workdir / (inp.stem + ".rpt")
    out = workdir / (inp.stem + ".out")
    wall = quiet_run(workdir / inp.name, rpt, out)
    return wall, rpt, out


def outfall_series(out_path, names, to_cms):
    from swmm.toolkit import output, shared_enum
    h = output.init()
    output.open(h, str(out_path))
    n = output.get_times(h, shared_enum.Time.NUM_PERIODS)
    step = output.get_times(h, shared_enum.Time.REPORT_STEP)
    start = dt.datetime(1899, 12, 30) + dt.timedelta(days=output.get_start_date(h))
    nodes = {}
    count = output.get_proj_size(h)[1]
    for i in range(count):
        nodes[output.get_elem_name(h, shared_enum.ElementType.NODE, i)] = i
    series = {}
    for name in names:
        q = output.get_node_series(h, nodes[name], shared_enum.NodeAttribute.TOTAL_INFLOW, 0, n - 1)
        series[name] = [v * to_cms for v in q]
    output.close(h)
    # Value k is the flow at start + (k+1)·step; it stands for the step before it.
    times = [start + dt.timedelta(seconds=step * k) for k in range(n)]
    return times, step, series


def routing_continuity_error(rpt):
    """SWMM's own flow-routing continuity error (%), from its report."""
    in_routing = False
    for line in open(rpt, errors="replace"):
        if "Flow Routing Continuity" in line:
            in_routing = True
        elif in_routing and line.strip().startswith("Continuity Error"):
            return float(line.split()[-1])
    return None


def runoff_total(rpt):
    """Surface runoff (m3) from SWMM's runoff continuity table (hectare-metres, SI)."""
    for line in open(rpt, errors="replace"):
        if line.strip().startswith("Surface Runoff"):
            parts = line.split()
            return float(parts[-2]) * 10000.0
    return None


def outfall_loading_m3(rpt, names):
    """Each outfall's total volume over the run from SWMM's Outfall Loading Summary
    (10^6 litres in SI units, so 1000 m3), integrated by SWMM at every routing step."""
    out, inside = {}, False
    for line in open(rpt, errors="replace"):
        if "Outfall Loading Summary" in line:
            inside = True
        elif inside and line.strip().startswith("System"):
            break
        elif inside:
            parts = line.split()
            if parts and parts[0] in names and len(parts) >= 5:
                out[parts[0]] = float(parts[4]) * 1000.0
    return out


def reference(inp, names, rain, rain_dat=None, routing_step_s=None, averages=False):
    with tempfile.TemporaryDirectory() as tmp:
        wall, rpt, out = run_swmm(inp, Path(tmp), rain_dat, routing_step_s, averages)
        loading = outfall_loading_m3(rpt, names)
        times, step, series = outfall_series(out, names, FLOW_TO_CMS[flow_units(inp)])
        runoff = runoff_total(rpt)
        continuity = routing_continuity_error(rpt)
    events = rain_events(rain)
    ev_i = -1
    annual = {n: {} for n in names}
    ev_vol = [0.0] * len(events)
    for k, t in enumerate(times):
        while ev_i + 1 < len(events) and events[ev_i + 1][0] <= t:
            ev_i += 1
        for n in names:
            v = series[n][k] * step
            if v <= 0:
                continue
            annual[n][t.year] = annual[n].get(t.year, 0.0) + v
            if ev_i >= 0:
                ev_vol[ev_i] += v
    per_year = {}
    overflowing = []
    for e, v in zip(events, ev_vol):
        per_year.setdefault(e[0].year, 0)
        if v >= MIN_OVERFLOW_M3:
            per_year[e[0].year] += 1
            overflowing.append({"start": e[0].isoformat(), "rain_mm": round(e[2], 1),
                                "overflow_m3": round(v, 1)})
    return {
        "report_averages": averages,
        "outfall_loading_summary_m3": loading,
        "overflow_events": overflowing,
        "overflow_outfalls": names,
        "annual_overflow_m3": {n: {str(y): round(v, 1) for y, v in sorted(annual[n].items())} for n in names},
        "overflow_events_per_year": {str(y): c for y, c in sorted(per_year.items())},
        "surface_runoff_m3": runoff,
        "routing_continuity_error_pct": continuity,
        "swmm_wall_s": round(wall, 2),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rain", action="store_true", help="regenerate rain.dat")
    ap.add_argument("--time", help="only run SWMM on this .inp and print its wall time")
    ap.add_argument("--generated", nargs=2, metavar=("DIR", "OUT_JSON"),
                    help="reference of DIR/case.inp with its own DIR/rain.dat (a case written by "
                         "`rewater-bench overflow --swmm --write DIR` or the swmm_bench example), "
                         "overflow outfall RIVER, written to OUT_JSON")
    ap.add_argument("--routing-step", type=int, metavar="S",
                    help="with --generated: run SWMM at a ROUTING_STEP of S seconds instead of "
                         "the file's own (the copy SWMM runs is changed, nothing else)")
    ap.add_argument("--averages", action="store_true",
                    help="with --generated: [REPORT] AVERAGES YES in the copy SWMM runs, so "
                         "the hourly series are period averages (exact volumes), not samples")
    args = ap.parse_args()
    if args.generated:
        d = Path(args.generated[0]).resolve()
        rain = read_rain(d / "rain.dat")
        result = reference(d / "case.inp", ["RIVER"], rain, d / "rain.dat", args.routing_step,
                           args.averages)
        if args.routing_step is not None:
            result["swmm_routing_step_s"] = args.routing_step
        result["swmm_toolkit"] = __import__("swmm.toolkit", fromlist=["__version__"]).__version__
        result["generated"] = dt.date.today().isoformat()
        Path(args.generated[1]).write_text(json.dumps(result, indent=1) + "\n")
        return
    if args.time:
        inp = Path(args.time).resolve()
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copy(inp, Path(tmp) / inp.name)
            for extra in inp.parent.glob("*.dat"):
                shutil.copy(extra, Path(tmp) / extra.name)
            wall = quiet_run(Path(tmp) / inp.name, Path(tmp) / "x.rpt", Path(tmp) / "x.out")
            print(f"{wall:.3f}")
        return
    if args.rain or not (HERE / "rain.dat").exists():
        make_rain(HERE / "rain.dat")
    rain = read_rain(HERE / "rain.dat")
    from swmm.toolkit import solver
    result = {
        "generated": dt.date.today().isoformat(),
        "swmm_version": solver.swmm_version_info() if hasattr(solver, "swmm_version_info") else None,
        "swmm_toolkit": __import__("swmm.toolkit", fromlist=["__version__"]).__version__,
        "inter_event_h": INTER_EVENT_H,
        "min_overflow_m3": MIN_OVERFLOW_M3,
        "cases": {},
    }
    for name, outfalls in CASES.items():
        print(f"running SWMM on {name} ...", file=sys.stderr)
        result["cases"][name] = reference(HERE / name, outfalls, rain)
        print(json.dumps(result["cases"][name]), file=sys.stderr)
    (HERE / "reference.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
