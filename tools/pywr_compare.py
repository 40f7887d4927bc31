#!/usr/bin/env python3
"""Run one rewater model in rewater and in pywr (the peer named in issue 2) and compare.

    python3 tools/pywr_compare.py MODEL.toml DAYS [path/to/rewater]

The model must be of the kind `rewater-bench gen` writes (constant or monthly-profile inflows
and demands, no CSV series, no lossy links). Both tools get the same variant of it: water
quality off (pywr has none) and pond evaporation and seepage off (pywr's Storage has no
proportional losses without custom parameters). Costs are the same numbers: user benefit
(rewater default 1000/priority) as a negative cost, link costs on link nodes, pond value as a
negative storage cost, river outlets at zero cost.

Prints wall time of both (whole run, model load included) and totals delivered by priority.
Needs `pip install pywr` (1.31 has a wheel for CPython 3.11).
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib

DEFAULT_POND_VALUE = 10.0


def monthly(base, factors):
    return [base * f for f in factors] if factors else None


def comparison_variant(m, days):
    m = json.loads(json.dumps(m))
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


def to_pywr(m):
    start = m["model"]["start"]
    days = m["model"]["days"]
    nodes, edges, params = [], [], {}

    def profile(name, base, factors, cap=None):
        vals = monthly(base, factors) or [base] * 12
        if cap is not None:
            vals = [min(v, cap) for v in vals]
        params[name] = {"type": "monthlyprofile", "values": vals}
        return name

    for p in m.get("plant", []):
        treated = profile(p["id"] + ":treated", p["influent_m3_per_day"], p.get("influent_monthly_factors"), p["capacity_m3_per_day"])
        nodes.append({"name": p["id"], "type": "input", "min_flow": treated, "max_flow": treated})
    for w in m.get("wetland", []):
        nodes.append({"name": w["id"], "type": "link", "max_flow": w["area_m2"] * w["max_hydraulic_loading_m_per_day"]})
    for p in m.get("pond", []):
        nodes.append({"name": p["id"], "type": "storage", "max_volume": p["capacity_m3"], "min_volume": p.get("min_volume_m3", 0.0),
                      "initial_volume": p["initial_volume_m3"], "cost": -(p.get("value_per_m3") or DEFAULT_POND_VALUE)})
    for j in m.get("junction", []):
        nodes.append({"name": j["id"], "type": "link"})
    for u in m.get("user", []):
        benefit = u.get("benefit_per_m3") or 1000.0 / u.get("priority", 1)
        demand = profile(u["id"] + ":demand", u["demand_m3_per_day"], u.get("demand_monthly_factors"))
        nodes.append({"name": u["id"], "type": "output", "max_flow": demand, "cost": -benefit})
    for r in m.get("river", []) + m.get("outfall", []):
        nodes.append({"name": r["id"], "type": "output", "cost": r.get("cost_per_m3", 0.0)})
    for i, l in enumerate(m.get("link", [])):
        cap, cost = l.get("capacity_m3_per_day"), l.get("cost_per_m3", 0.0)
        if cap is None and cost == 0.0:
            edges.append([l["from"], l["to"]])
            continue
        name = f"link{i}:{l['from']}->{l['to']}"
        node = {"name": name, "type": "link", "cost": cost}
        if cap is not None:
            node["max_flow"] = cap
        nodes.append(node)
        edges += [[l["from"], name], [name, l["to"]]]
    end = time.strftime("%Y-%m-%d", time.gmtime(time.mktime(time.strptime(start, "%Y-%m-%d")) + (days - 1) * 86400 + 43200))
    return {"metadata": {"title": m["model"]["name"], "minimum_version": "1.0"},
            "timestepper": {"start": start, "end": end, "timestep": 1},
            "nodes": nodes, "edges": edges, "parameters": params}


def main():
    src, days = sys.argv[1], int(sys.argv[2])
    rewater = sys.argv[3] if len(sys.argv) > 3 else "target/release/rewater"
    with open(src, "rb") as f:
        m = comparison_variant(tomllib.load(f), days)
    tmp = tempfile.mkdtemp(prefix="pywr-compare-")
    rw_model = os.path.join(tmp, "model.json")
    with open(rw_model, "w") as f:
        json.dump(m, f)
    t0 = time.perf_counter()
    subprocess.run([rewater, "run", rw_model, "--out", os.path.join(tmp, "out"), "--no-daily", "--quiet"], check=True)
    t_rw = time.perf_counter() - t0
    with open(os.path.join(tmp, "out", "summary.json")) as f:
        s = json.load(f)

    from pywr.model import Model
    from pywr.recorders import NumpyArrayNodeRecorder
    t1 = time.perf_counter()
    pm = Model.load(to_pywr(m))
    users = {u["id"]: u.get("priority", 1) for u in m.get("user", [])}
    recs = {uid: NumpyArrayNodeRecorder(pm, pm.nodes[uid]) for uid in users}
    t_load = time.perf_counter() - t1
    pm.run()
    t_pw = time.perf_counter() - t1
    by_prio = {}
    for uid, rec in recs.items():
        by_prio[users[uid]] = by_prio.get(users[uid], 0.0) + float(rec.data.sum())

    print(json.dumps({
        "model": src, "days": days,
        "pywr_nodes": len(pm.nodes),
        "rewater_seconds": round(t_rw, 3), "pywr_seconds": round(t_pw, 3), "pywr_load_seconds": round(t_load, 3), "speedup": round(t_pw / t_rw, 1),
        "delivered_by_priority_m3": {str(p): {"rewater": round(s["delivered_by_priority"][str(p)]["delivered_m3"], 1),
                                             "pywr": round(by_prio[p], 1)} for p in sorted(by_prio)},
    }, indent=2))


if __name__ == "__main__":
    main()
