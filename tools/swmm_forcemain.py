#!/usr/bin/env python3
"""SWMM 5.2 reference for rewater's force mains (FORCE_MAIN cross-section, issue 14).

Writes small dynamic-wave .inp files into crates/rewater-overflow/tests/forcemain/: a
0.5 m, 500 m FORCE_MAIN from a junction (2 m deep, 3 m more under pressure before it
floods) to an outfall held above the pipe's crown (FIXED stage), so that the pipe runs
full and its friction law sets how much it takes; an inflow peaking at 0.8 m3/s, above
what the head can push through. One file per law: Hazen-Williams (C = 120, the default
FORCE_MAIN_EQUATION), Darcy-Weisbach (roughness height 0.25 mm), and the same pipe as a
CIRCULAR conduit with Manning's n = 0.013 for contrast. Runs each with the SWMM 5.2 engine
of the swmm-toolkit wheel (pip install swmm-toolkit==0.17.0; nothing of SWMM's is kept in
this repository) and writes reference.json there: outfall volume and flooding (m3).

    python3 tools/swmm_forcemain.py
"""
import json
import tempfile
from pathlib import Path

from swmm_shapes import outfall_and_flooding

HERE = Path(__file__).resolve().parent.parent / "crates" / "rewater-overflow" / "tests" / "forcemain"

CASES = {
    "hazen_williams": ("H-W", "FORCE_MAIN", 120),
    "darcy_weisbach": ("D-W", "FORCE_MAIN", 0.25),
    "manning": ("H-W", "CIRCULAR", 0),
}

TEMPLATE = """[TITLE]
rewater force main check: {name}

[OPTIONS]
FLOW_UNITS           CMS
FLOW_ROUTING         DYNWAVE
FORCE_MAIN_EQUATION  {eq}
START_DATE           01/01/2020
START_TIME           00:00:00
REPORT_START_DATE    01/01/2020
REPORT_START_TIME    00:00:00
END_DATE             01/01/2020
END_TIME             06:00:00
REPORT_STEP          00:05:00
WET_STEP             00:05:00
DRY_STEP             00:05:00
ROUTING_STEP         2
ALLOW_PONDING        NO

[JUNCTIONS]
;;Name  Elev  MaxDepth  InitDepth  SurDepth  Aponded
J1      10.0  2.0       0          3.0       0

[OUTFALLS]
O1      9.5   FIXED     11.0

[CONDUITS]
;;Name  From  To  Length  N      InOff  OutOff  InitFlow
C1      J1    O1  500     0.013  0      0       0

[XSECTIONS]
C1      {shape}  0.5  {g2}  0  0  1

[TIMESERIES]
TS1     0:00  0
TS1     1:00  0.8
TS1     3:00  0

[INFLOWS]
J1      FLOW  TS1  FLOW  1.0  1.0
"""


def main():
    from swmm.toolkit import solver
    HERE.mkdir(parents=True, exist_ok=True)
    ref = {}
    for name, (eq, shape, g2) in CASES.items():
        path = HERE / f"{name}.inp"
        path.write_text(TEMPLATE.format(name=name, eq=eq, shape=shape, g2=g2))
        with tempfile.TemporaryDirectory() as tmp:
            rpt, out = Path(tmp) / "x.rpt", Path(tmp) / "x.out"
            solver.swmm_run(str(path), str(rpt), str(out))
            vol, flood = outfall_and_flooding(rpt)
        ref[name] = {"outfall_m3": vol, "flooding_m3": flood}
        print(name, ref[name])
    (HERE / "reference.json").write_text(json.dumps(ref, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
