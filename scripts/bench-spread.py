#!/usr/bin/env python3
"""A/A spread per set-up and benchmark of runs kept by scripts/bench-own-noise.sh (or any
tests/fixtures/bench-noise* corpus): each run's level is the 5th percentile of its
per-iteration times (upkeep's `Measured::typical`, numpy's linear interpolation); the spread
is (max - min) / median over the runs, and the largest ratio between two runs' levels.

    scripts/bench-spread.py OUT
"""
import json
import pathlib
import statistics
import sys


def level(sample):
    times = sorted(t / i for t, i in zip(sample["times"], sample["iters"]))
    pos = 0.05 * (len(times) - 1)
    lo, hi = int(pos), min(int(pos) + 1, len(times) - 1)
    return times[lo] + (times[hi] - times[lo]) * (pos - lo)


root = pathlib.Path(sys.argv[1])
print("| set-up | benchmark | runs | spread (max-min)/median | widest ratio between runs |")
print("|---|---|---|---|---|")
for setup in sorted(p for p in root.iterdir() if p.is_dir()):
    levels = {}
    for run in setup.iterdir():
        for b in run.rglob("new/benchmark.json"):
            bid = json.loads(b.read_text())["full_id"]
            s = json.loads((b.parent / "sample.json").read_text())
            levels.setdefault(bid, []).append(level(s))
    for bid, ls in sorted(levels.items()):
        med = statistics.median(ls)
        print(
            f"| {setup.name} | `{bid}` | {len(ls)} | {100 * (max(ls) - min(ls)) / med:.1f} % | ×{max(ls) / min(ls):.3f} |"
        )
