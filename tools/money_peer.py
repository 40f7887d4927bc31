#!/usr/bin/env python3
"""Peer of `rewater-bench money`'s compensation: the 2014 rule as docs/money.md states it,
written again from the text in plain Python (no rewater code), over the generated
target/bench-money/sections.csv and values.csv. Prints the year's total paid and the time.

GB 3838-2002 limits for rivers (mg/L, classes I–V): COD 15 15 20 30 40, NH3-N 0.15 0.5 1.0
1.5 2.0, TP 0.02 0.1 0.2 0.3 0.4; a value equal to a limit meets it; beyond V is class 6.
Per factor and month: k = class − target (if > 0) × 300,000, or × 150,000 when the exit's
value is no higher than its inflow section's; beyond class V + 300,000; summed over factors.
usage: tools/money_peer.py [DIR]
"""
import csv
import sys
import time

LIMITS = {
    "cod": [15, 15, 20, 30, 40],
    "nh3n": [0.15, 0.5, 1.0, 1.5, 2.0],
    "tp": [0.02, 0.1, 0.2, 0.3, 0.4],
}
TARGET = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}


def klass(factor, v):
    for i, lim in enumerate(LIMITS[factor]):
        if v <= lim:
            return i + 1
    return 6


def main(d):
    t0 = time.perf_counter()
    with open(f"{d}/sections.csv", encoding="utf-8") as f:
        sections = list(csv.DictReader(f))
    values = {}
    with open(f"{d}/values.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            values[(r["section"], r["month"], r["factor"])] = float(r["value"])
    total = 0.0
    months = sorted({k[1] for k in values})
    for s in sections:
        target = TARGET[s["target"]]
        for m in months:
            for fac in LIMITS:
                v = values.get((s["id"], m, fac))
                if v is None:
                    continue
                c = klass(fac, v)
                if c <= target:
                    continue
                inflow = values.get((s["inflow"], m, fac)) if s["inflow"] else None
                rate = 150_000 if inflow is not None and v <= inflow else 300_000
                total += (c - target) * rate + (300_000 if c == 6 else 0)
    dt = time.perf_counter() - t0
    print(f"peer: compensation paid in the year: {total:.0f} yuan, {dt:.3f} s")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "target/bench-money")
