"""Simulator speed: 100,000 and 1,000,000 cases over three years, and the oracle on ~50,000.

Each run is a fresh process (peak memory is its own). Targets (issue 3): 100,000
cases in under 60 s; 1,000,000 cases in under 10 minutes with peak memory under
8 GB; the oracle for 50,000 population cases in under 5 minutes. A fixed numpy
workload (sorting 20 million floats, best of three) is timed in the same run as
a yardstick of the machine's speed, so that later runs can be compared.

    python bench/bench_simulate.py [--large 1000000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import tempfile
import time
from pathlib import Path

from common import run_child

START, END, AS_OF = dt.date(2023, 1, 1), dt.date(2025, 12, 31), dt.date(2025, 6, 1)


def child(cases: int, truth: bool, out: Path) -> None:
    from earlywarn.simulator.export import _write, oracle_truth
    from earlywarn.simulator.run import SimulationConfig, simulate

    config = SimulationConfig(cases=cases, start=START, end=END, seed=11)
    started = time.perf_counter()
    result = simulate(config, AS_OF if truth else None)
    simulated = time.perf_counter() - started
    for name, frame in result.tables.items():
        _write(frame, out / f"{name}.parquet", "parquet")
    written = time.perf_counter() - started
    figures: dict[str, float] = {
        "simulate_s": simulated,
        "total_s": written,
        "contacts": result.tables["contacts"].height,
        "actions": result.tables["actions"].height,
        "cases": result.tables["cases"].height,
    }
    if truth:
        started = time.perf_counter()
        frame = oracle_truth(result, AS_OF, 30, config.seed)
        figures["oracle_s"] = time.perf_counter() - started
        figures["population"] = frame.height
        figures["rollouts"] = float(frame["rollouts"].sum())
        figures["max_se"] = float(frame.select(frame["escalation_se"].max()).item())
    figures["peak_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9
    print(json.dumps(figures))


def yardstick() -> float:
    import numpy as np

    data = np.random.default_rng(0).random(20_000_000)
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        np.sort(data)
        best = min(best, time.perf_counter() - started)
    return best


def measure(cases: int, truth: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="earlywarn-sim-") as out:
        return run_child(__file__, "--child", str(cases), str(int(truth)), out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=3)
    args = parser.parse_args()
    if args.child:
        child(int(args.child[0]), bool(int(args.child[1])), Path(args.child[2]))
        return
    stick = yardstick()
    small = measure(100_000, truth=False)
    oracle = measure(100_000, truth=True)
    large = measure(args.large, truth=False)
    print(f"Machine yardstick: numpy sort of 20M floats {stick:.2f} s (best of 3).\n")
    print("| run | cases | contacts | actions | simulate | + write | peak memory | target | met |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---|")
    rows = [
        ("100k cases, 3 years", small, "< 60 s", small["total_s"] < 60),
        (
            f"{args.large // 1000}k cases, 3 years",
            large,
            "< 600 s, < 8 GB",
            large["total_s"] < 600 and large["peak_gb"] < 8,
        ),
    ]
    for label, f, target, met in rows:
        print(
            f"| {label} | {f['cases']:,.0f} | {f['contacts']:,.0f} | {f['actions']:,.0f} | "
            f"{f['simulate_s']:.1f} s | {f['total_s']:.1f} s | {f['peak_gb']:.2f} GB | {target} | "
            f"{'yes' if met else 'NO'} |"
        )
    population = oracle["population"]
    per_50k = oracle["oracle_s"] * 50_000 / population
    print(
        f"\nOracle at {AS_OF} on the 100k-case history: {population:,.0f} population cases, "
        f"{oracle['rollouts']:,.0f} rollouts in all (adaptive, "
        f"{oracle['rollouts'] / population:.0f} per case on average), max standard error "
        f"{oracle['max_se']:.5f}, {oracle['oracle_s']:.1f} s (target < 300 s for 50,000 cases: "
        f"{'met' if per_50k < 300 else 'NOT met'}); peak memory of that process "
        f"{oracle['peak_gb']:.2f} GB."
    )


if __name__ == "__main__":
    main()
