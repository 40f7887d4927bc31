#!/usr/bin/env python3
"""Run one rewater model in rewater and in pywr (the peer named in issues 2 and 18) and compare.

    python3 tools/pywr_compare.py MODEL.toml [DAYS] [REWATER] [--only rewater|pywr]
                                  [--repeat N] [--demand-scale K] [--keep DIR] [--route-solver]

DAYS defaults to the model's own length; REWATER to target/release/rewater. `--only` runs one
side (so that each can be timed in its own window, e.g. rewater through tools/quiet.sh and a
long pywr run niced in the background), `--repeat N` runs that side N times, `--keep DIR`
writes the comparison model (model.json for rewater, pywr.json for pywr) and rewater's
output there. `--demand-scale K` multiplies every user's demand in both models: the generated
cases meet all demand, so K = 2 gives deficits at the lower priorities to compare. Prints one
JSON document: wall and CPU seconds of every run, and demand, delivered and deficit by
priority from each tool.

The model must be of the kind `rewater-bench gen` writes (constant or monthly-profile inflows
and demands, no CSV series, no lossy links). Both tools get the same variant of it: water
quality off (pywr has none) and pond evaporation and seepage off (pywr's Storage has no
proportional losses without custom parameters). Costs are the same numbers: user benefit
(rewater default 1000/priority) as a negative cost on the user's output node, link costs on
link nodes, pond value as a negative storage cost, river outlets at zero cost.

How the pywr model is built, and why (issue 18: the first version of this script took about
1 s per simulated day; a 30-day profile showed why):
- Solver `glpk-edge` (one LP column per edge). pywr's default `glpk` solver has one column per
  *route* from an input to an output; the ring of transfer mains in these models gives tens of
  thousands of routes, whose enumeration took 210 s of set-up for the medium case and each
  day's LP 80 ms. With `glpk-edge` set-up is 0.2 s and a day about 3 ms. Results are the same.
- `set_fixed_flows_once` / `set_fixed_costs_once`: the bounds and costs that are constants
  (capacities, link costs, benefits) are given to GLPK once, not every day.
- Constant demands as plain numbers; only inflows and demands that vary by month are
  `MonthlyProfileParameter`s (fewer components for pywr to visit every step).
- Built-in recorders declared in the model: one `AggregatedNode` per priority (its LP row,
  sum of the users' inflows ≥ 0, never binds) with one `TotalFlowNodeRecorder` on it, not a
  recorder per user (1,000 per-user total recorders cost 28 % of the run in a two-year test);
  the deficit is the demand (the model's own numbers, as rewater reports it) minus that total.
- `use_unsafe_api`: pywr's option that calls GLPK without argument checks (≈ 14 % faster in
  the same test).
Everything is pywr's own (no Python callbacks); `--route-solver` gives back the old solver.
Needs `pip install pywr==1.31.1` (a wheel for CPython 3.11).
"""
import argparse
import calendar
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tomllib

DEFAULT_POND_VALUE = 10.0


def comparison_variant(m, days, demand_scale=1.0):
    """The model both tools run: quality and pond losses off, `days` long, demands × scale."""
    m = json.loads(json.dumps(m))
    for u in m.get("user", []):
        u["demand_m3_per_day"] *= demand_scale
    m["model"]["factors"] = []
    m["model"]["days"] = days
    m["model"].pop("end", None)
    for p in m.get("pond", []):
        p["evaporation_mm_per_day"] = 0.0
        p["seepage_m3_per_day"] = 0.0
        p["decay_per_day"] = {}
        p["initial_mg_per_l"] = {}
    for p in m.get("plant", []):
        p["effluent_mg_per_l"] = {}
        p["influent_mg_per_l"] = {}
        p.pop("effluent_standard", None)
    for w in m.get("wetland", []):
        w["pkc"] = {}
    return m


def to_pywr(m, route_solver=False):
    """The same problem as a pywr JSON model, built the way pywr runs it fastest."""
    start = m["model"]["start"]
    days = m["model"]["days"]
    nodes, edges, params, recorders = [], [], {}, {}

    def flow(name, base, factors, cap=None):
        # A constant stays a number: pywr then treats the bound as fixed (set once).
        vals = [base * f for f in factors] if factors else [base] * 12
        if cap is not None:
            vals = [min(v, cap) for v in vals]
        if all(v == vals[0] for v in vals):
            return vals[0]
        params[name] = {"type": "monthlyprofile", "values": vals}
        return name

    for p in m.get("plant", []):
        treated = flow(p["id"] + ":treated", p["influent_m3_per_day"], p.get("influent_monthly_factors"),
                       p["capacity_m3_per_day"])
        nodes.append({"name": p["id"], "type": "input", "min_flow": treated, "max_flow": treated})
    for w in m.get("wetland", []):
        nodes.append({"name": w["id"], "type": "link", "max_flow": w["area_m2"] * w["max_hydraulic_loading_m_per_day"]})
    for p in m.get("pond", []):
        nodes.append({"name": p["id"], "type": "storage", "max_volume": p["capacity_m3"],
                      "min_volume": p.get("min_volume_m3", 0.0), "initial_volume": p["initial_volume_m3"],
                      "cost": -(p.get("value_per_m3") or DEFAULT_POND_VALUE)})
    for j in m.get("junction", []):
        nodes.append({"name": j["id"], "type": "link"})
    for u in m.get("user", []):
        benefit = u.get("benefit_per_m3") or 1000.0 / u.get("priority", 1)
        demand = flow(u["id"] + ":demand", u["demand_m3_per_day"], u.get("demand_monthly_factors"))
        nodes.append({"name": u["id"], "type": "output", "max_flow": demand, "cost": -benefit})
    for r in m.get("river", []) + m.get("outfall", []):
        nodes.append({"name": r["id"], "type": "output", "cost": r.get("cost_per_m3", 0.0)})
    for i, link in enumerate(m.get("link", [])):
        cap, cost = link.get("capacity_m3_per_day"), link.get("cost_per_m3", 0.0)
        if cap is None and cost == 0.0:
            edges.append([link["from"], link["to"]])
            continue
        name = f"link{i}:{link['from']}->{link['to']}"
        node = {"name": name, "type": "link", "cost": cost}
        if cap is not None:
            node["max_flow"] = cap
        nodes.append(node)
        edges += [[link["from"], name], [name, link["to"]]]
    # Delivered water by priority: one aggregated node per priority (no LP constraint of its
    # own: its flow is the sum of its users' flows) and one total-flow recorder on it.
    for p in sorted({u.get("priority", 1) for u in m.get("user", [])}):
        name = f"priority-{p}"
        nodes.append({"name": name, "type": "aggregatednode",
                      "nodes": [u["id"] for u in m["user"] if u.get("priority", 1) == p]})
        recorders[name + ":delivered"] = {"type": "totalflownode", "node": name}
    t0 = calendar.timegm(time.strptime(start, "%Y-%m-%d"))
    end = time.strftime("%Y-%m-%d", time.gmtime(t0 + (days - 1) * 86400 + 43200))
    solver = {"name": "glpk"} if route_solver else {
        "name": "glpk-edge", "set_fixed_flows_once": True, "set_fixed_costs_once": True, "use_unsafe_api": True}
    return {"metadata": {"title": m["model"]["name"], "minimum_version": "1.0"},
            "timestepper": {"start": start, "end": end, "timestep": 1}, "solver": solver,
            "nodes": nodes, "edges": edges, "parameters": params, "recorders": recorders}


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_rewater(rewater, model_path, out, repeat):
    """Whole rewater processes (start, load, run, summary written), as a user runs them."""
    runs = []
    for _ in range(repeat):
        c0, t0 = children_cpu(), time.perf_counter()
        subprocess.run([rewater, "run", model_path, "--out", out, "--no-daily", "--quiet"], check=True)
        runs.append({"wall_s": round(time.perf_counter() - t0, 3), "cpu_s": round(children_cpu() - c0, 3)})
    with open(os.path.join(out, "summary.json")) as f:
        s = json.load(f)
    by_prio = {p: {k: t[k] for k in ("demand_m3", "delivered_m3", "deficit_m3")}
               for p, t in s["delivered_by_priority"].items()}
    return {"runs": runs, "by_priority": by_prio}


def run_pywr(m, pywr_model, repeat):
    """pywr in this process: import, load (JSON dict → Model), set-up, run, each timed."""
    c0, t0 = time.process_time(), time.perf_counter()
    from pywr.model import Model
    info = {"import_s": round(time.perf_counter() - t0, 3), "import_cpu_s": round(time.process_time() - c0, 3),
            "runs": []}
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        pm = Model.load(json.loads(json.dumps(pywr_model)))
        t1 = time.perf_counter()
        pm.setup()
        t2 = time.perf_counter()
        pm.run()
        t3 = time.perf_counter()
        info["runs"].append({"load_s": round(t1 - t0, 3), "setup_s": round(t2 - t1, 3), "run_s": round(t3 - t2, 3),
                             "wall_s": round(t3 - t0, 3), "cpu_s": round(time.process_time() - c0, 3)})
    info["nodes"] = len(pm.nodes)
    info["solver"] = pm.solver.name
    stats = pm.solver.stats
    info["solver_stats_s"] = {k: round(v, 3) for k, v in stats.items() if isinstance(v, float)}
    demand = demand_by_priority(m)
    info["by_priority"] = {}
    for p, want in demand.items():
        got = pm.recorders[f"priority-{p}:delivered"].values()[0]
        info["by_priority"][p] = {"demand_m3": want, "delivered_m3": got, "deficit_m3": want - got}
    return info


def demand_by_priority(m):
    """Demand over the run by priority, from the model's own numbers (what both tools ask for)."""
    t0 = calendar.timegm(time.strptime(m["model"]["start"], "%Y-%m-%d")) + 43200
    days_in_month = [0] * 12
    for d in range(m["model"]["days"]):
        days_in_month[time.gmtime(t0 + d * 86400).tm_mon - 1] += 1
    out = {}
    for u in m.get("user", []):
        factors = u.get("demand_monthly_factors") or [1.0] * 12
        want = sum(n * u["demand_m3_per_day"] * f for n, f in zip(days_in_month, factors))
        p = str(u.get("priority", 1))
        out[p] = out.get(p, 0.0) + want
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("days", nargs="?", type=int)
    ap.add_argument("rewater", nargs="?", default="target/release/rewater")
    ap.add_argument("--only", choices=["rewater", "pywr"])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--demand-scale", type=float, default=1.0,
                    help="multiply every demand (both tools), so that there are deficits to compare")
    ap.add_argument("--keep", help="write the comparison models and rewater's output here")
    ap.add_argument("--route-solver", action="store_true", help="pywr's default route-based glpk solver (slow)")
    a = ap.parse_args()
    with open(a.model, "rb") as f:
        src = tomllib.load(f)
    m = comparison_variant(src, a.days or src["model"]["days"], a.demand_scale)
    work = a.keep or tempfile.mkdtemp(prefix="pywr-compare-")
    os.makedirs(work, exist_ok=True)
    rw_model = os.path.join(work, "model.json")
    with open(rw_model, "w") as f:
        json.dump(m, f)
    pywr_model = to_pywr(m, a.route_solver)
    with open(os.path.join(work, "pywr.json"), "w") as f:
        json.dump(pywr_model, f)
    out = {"model": a.model, "days": m["model"]["days"], "demand_scale": a.demand_scale}
    if a.only != "pywr":
        out["rewater"] = run_rewater(a.rewater, rw_model, os.path.join(work, "out"), a.repeat)
    if a.only != "rewater":
        out["pywr"] = run_pywr(m, pywr_model, a.repeat)
    if "rewater" in out and "pywr" in out:
        rw, pw = out["rewater"], out["pywr"]
        best_rw = min(r["wall_s"] for r in rw["runs"])
        best_pw = min(r["wall_s"] for r in pw["runs"])
        out["speedup_wall_best"] = round(best_pw / best_rw, 1)
        out["largest_deficit_difference_m3"] = round(max(
            abs(rw["by_priority"][p]["deficit_m3"] - pw["by_priority"][p]["deficit_m3"]) for p in pw["by_priority"]), 3)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    sys.exit(main())
