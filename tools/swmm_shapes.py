#!/usr/bin/env python3
"""SWMM 5.2 reference for rewater's cross-section shapes (issue 14).

Writes one small dynamic-wave .inp per SWMM cross-section family into
crates/rewater-overflow/tests/shapes/ (a 200 m conduit of that shape from a junction that
floods when the conduit cannot take the inflow, to a free outfall; an inflow hydrograph
peaking above the conduit's capacity), runs each with the SWMM 5.2 engine that the
swmm-toolkit wheel bundles (pip install swmm-toolkit==0.17.0; nothing of SWMM's is kept
in this repository), and writes reference.json there: the outfall volume (m³, from the
report's Outfall Loading Summary) and the flooding (m³, Node Flooding Summary).

    python3 tools/swmm_shapes.py            # every shape
    python3 tools/swmm_shapes.py CUSTOM     # only these; the others keep their reference
"""
import json
import re
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent / "crates" / "rewater-overflow" / "tests" / "shapes"

# shape keyword -> geom1..geom4 (m), chosen about 1 m high.
SHAPES = {
    "CIRCULAR": (1.0, 0, 0, 0),
    "FILLED_CIRCULAR": (1.2, 0.2, 0, 0),
    "RECT_CLOSED": (1.0, 1.2, 0, 0),
    "RECT_OPEN": (1.0, 1.2, 0, 0),
    "TRAPEZOIDAL": (1.0, 0.4, 0.5, 0.5),
    "TRIANGULAR": (1.0, 2.0, 0, 0),
    "PARABOLIC": (1.0, 2.0, 0, 0),
    "POWER": (1.0, 2.0, 1.5, 0),
    "RECT_TRIANGULAR": (1.0, 1.2, 0.3, 0),
    "RECT_ROUND": (1.0, 1.2, 0.8, 0),
    "MODBASKETHANDLE": (1.0, 1.2, 0.6, 0),
    "EGG": (1.2, 0, 0, 0),
    "HORSESHOE": (1.0, 0, 0, 0),
    "GOTHIC": (1.2, 0, 0, 0),
    "CATENARY": (1.2, 0, 0, 0),
    "SEMIELLIPTICAL": (1.0, 0, 0, 0),
    "BASKETHANDLE": (1.2, 0, 0, 0),
    "SEMICIRCULAR": (0.8, 0, 0, 0),
    "HORIZ_ELLIPSE": (0.9, 1.4, 0, 0),
    "VERT_ELLIPSE": (1.4, 0.9, 0, 0),
    "ARCH": (1.0, 1.5, 0, 0),
    "IRREGULAR": ("T1", 0, 0, 0),
    "CUSTOM": (1.0, "S1", 0, 0),
}

# Further cases of one shape: name -> (shape keyword, geom1..geom4, conduit length m).
VARIANTS = {
    "FILLED_CIRCULAR_DEEP": ("FILLED_CIRCULAR", (1.2, 0.6, 0, 0), 200),
    "FILLED_CIRCULAR_LONG": ("FILLED_CIRCULAR", (1.2, 0.2, 0, 0), 2000),
}

TEMPLATE = """[TITLE]
rewater shape check: {shape}

[OPTIONS]
FLOW_UNITS           CMS
FLOW_ROUTING         DYNWAVE
START_DATE           01/01/2020
START_TIME           00:00:00
REPORT_START_DATE    01/01/2020
REPORT_START_TIME    00:00:00
END_DATE             01/01/2020
END_TIME             04:00:00
REPORT_STEP          00:05:00
WET_STEP             00:05:00
DRY_STEP             00:05:00
ROUTING_STEP         2
ALLOW_PONDING        NO

[JUNCTIONS]
;;Name  Elev  MaxDepth  InitDepth  SurDepth  Aponded
J1      10.0  {depth}   0          0         0

[OUTFALLS]
O1      9.0   FREE

[CONDUITS]
;;Name  From  To  Length  N      InOff  OutOff  InitFlow
C1      J1    O1  {length}     0.015  0      0       0

[XSECTIONS]
C1      {shape}  {g1}  {g2}  {g3}  {g4}  1

{transects}[TIMESERIES]
TS1     0:00  0
TS1     1:00  {peak}
TS1     2:00  0

[INFLOWS]
J1      FLOW  TS1  FLOW  1.0  1.0
"""

TRANSECT = """[TRANSECTS]
NC 0.04 0.035 0.015
X1 T1 6 0.2 1.0 0 0 0 0 0 0
GR 1.0 0 0.4 0.2 0 0.4 0 0.8 0.4 1.0 1.0 1.2

"""


# A closed shape of unit height: a narrow invert channel widening to a box with a
# chamfered roof (relative depth, relative width), as SWMM's [CURVES] SHAPE type reads it.
SHAPE_CURVE = """[CURVES]
S1  SHAPE  0.0  0.3
S1         0.2  0.9
S1         0.6  1.2
S1         0.9  1.0
S1         1.0  0.4

"""


def outfall_and_flooding(rpt):
    text = rpt.read_text()
    out = re.search(r"Outfall Loading Summary.*?\n\s+O1\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", text, re.S)
    vol = float(out.group(4)) * 1000.0  # 10^6 ltr -> m3
    flood = re.search(r"Node Flooding Summary.*?\n\s+J1\s+([\d.]+)\s+([\d.]+)\s+(\d+)\s+(\d+):(\d+)\s+([\d.]+)", text, re.S)
    flood_m3 = float(flood.group(6)) * 1000.0 if flood else 0.0
    return vol, flood_m3


def main():
    from swmm.toolkit import solver
    HERE.mkdir(parents=True, exist_ok=True)
    only = set(sys.argv[1:])  # shapes to run again; the others keep their reference
    ref_path = HERE / "reference.json"
    ref = json.loads(ref_path.read_text()) if only and ref_path.exists() else {}
    cases = {k: (k, g, 200) for k, g in SHAPES.items()}
    cases.update(VARIANTS)
    for name, (shape, g, length) in cases.items():
        if only and name not in only:
            continue
        depth = g[0] if shape != "IRREGULAR" else 1.0
        if shape == "FILLED_CIRCULAR":
            depth = g[0] - g[1]
        inp = TEMPLATE.format(shape=shape, depth=depth, length=length, g1=g[0], g2=g[1], g3=g[2], g4=g[3],
                              peak=5.0, transects=TRANSECT if shape == "IRREGULAR" else
                              SHAPE_CURVE if shape == "CUSTOM" else "")
        path = HERE / f"{name.lower()}.inp"
        path.write_text(inp)
        with tempfile.TemporaryDirectory() as tmp:
            rpt, out = Path(tmp) / "x.rpt", Path(tmp) / "x.out"
            print("running", name, flush=True)
            try:
                solver.swmm_run(str(path), str(rpt), str(out))
            except Exception as e:
                print(rpt.read_text()[-600:])
                raise
            vol, flood = outfall_and_flooding(rpt)
        ref[name] = {"outfall_m3": vol, "flooding_m3": flood}
        print(name, ref[name])
    ref_path.write_text(json.dumps(ref, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
