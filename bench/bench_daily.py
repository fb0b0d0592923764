"""The nightly job at a million open cases, by phase, and what monitoring adds to it.

A simulated prefecture whose scoring population on the last day is about a
million open cases; champions trained on the sample. The daily job's phases are
timed as ``earlywarn daily`` runs them: load and validate, the list (features,
scores, reasons, store, exports), monitoring on the list's features and scores. Beside it,
in the same process: monitoring when it must compute the features itself (as
``earlywarn monitor`` alone does), and the features alone (one pass, the
yardstick monitoring is measured against).

The measured night is the second: the previous night's list is built first (not
timed), so that the changes since the last list are measured as on any night after
the first.

With ``--against REF`` the same night is measured with the code of a git ref too (a
worktree, imported by a child process of its own), on the same simulated data and
champions, one after the other: the ratio is the figure to compare on a shared machine.

Issue 14's bar: monitoring a day of a million-case population in under 10 s.
Issue 19's bar: load, features, both models, reasons for the rows people read,
store and exports in under 60 s, peak memory under 6 GB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from common import checkout, run_child, simulate_prefecture, train_and_promote

LAST_DAY = dt.date(2024, 12, 31)


def measure(work: Path) -> None:
    from earlywarn.contract import Mode, load_dataset
    from earlywarn.contract.rules import end_of_day
    from earlywarn.features.build import build_features
    from earlywarn.models import registry
    from earlywarn.serving.monitor.drift import input_drift
    from earlywarn.serving.monitor.run import monitor_day
    from earlywarn.serving.risk_list import build_risk_list
    from earlywarn.serving.store import open_store
    from earlywarn.settings import load_settings

    data = work / "prefecture"
    settings = load_settings(work_dir=work)
    sessions = open_store(settings)
    registry.connect(settings)
    models = registry.load_models()
    phases: dict[str, float] = {}

    def timed(name: str, started: float) -> None:
        phases[name] = time.perf_counter() - started

    previous = load_dataset(data, Mode.LENIENT, settings.quarantine_dir(data))
    build_risk_list(settings, previous, LAST_DAY - dt.timedelta(days=1), sessions, models)
    del previous
    started = time.perf_counter()
    dataset = load_dataset(data, Mode.LENIENT, settings.quarantine_dir(data))
    timed("load and validate", started)
    started = time.perf_counter()
    built = build_risk_list(settings, dataset, LAST_DAY, sessions, models)
    timed("risk list (features, scores, reasons, store, exports)", started)
    started = time.perf_counter()
    watched = monitor_day(
        settings, dataset, LAST_DAY, sessions, models, built.features, built.probability
    )
    timed("monitoring on the list's features and scores", started)
    # Beside the job: the parts, to see where monitoring's time goes.
    started = time.perf_counter()
    features = build_features(dataset, [end_of_day(LAST_DAY)])
    timed("features alone (one pass; yardstick)", started)
    started = time.perf_counter()
    input_drift(models, features)
    timed("input drift alone (every feature)", started)
    started = time.perf_counter()
    monitor_day(settings, dataset, LAST_DAY, sessions, models)
    timed("monitoring alone, features computed (earlywarn monitor)", started)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 2**30
    print(json.dumps({"phases": phases, "rows": built.rows, "checks": len(watched.checks),
                      "status": watched.status, "peak_gib": peak, "high": built.high,
                      "medium": built.medium}))  # fmt: skip


def run_directory(prepared: Path, name: str) -> Path:
    """A work directory of its own (store, lists) on the prepared data and champions."""
    run = prepared / name
    run.mkdir()
    for shared in ("prefecture", "mlartifacts"):
        (run / shared).symlink_to(prepared / shared)
    for copied in ("mlflow.db", "audit.key"):
        if (prepared / copied).exists():
            shutil.copy2(prepared / copied, run / copied)
    return run


def report(result: dict, baseline: dict | None, against: str | None) -> None:  # type: ignore[type-arg]
    phases = result["phases"]
    job = ["load and validate", "risk list (features, scores, reasons, store, exports)",
           "monitoring on the list's features and scores"]  # fmt: skip
    print(f"A simulated prefecture, {result['rows']:,} open cases on {LAST_DAY} "
          f"({result['high']:,} flagged, {result['medium']:,} medium); champions trained on "
          f"the sample; the second night (the first built before, not timed); "
          f"{result['checks']} checks, day status {result['status']}; "
          f"peak {result['peak_gib']:.1f} GiB.\n")  # fmt: skip
    base = baseline["phases"] if baseline else None
    if base:
        print(f"| phase | seconds | {against} (baseline) | x baseline |")
        print("|---|---:|---:|---:|")
    else:
        print("| phase | seconds |")
        print("|---|---:|")

    def row(name: str, mine: float, theirs: float | None) -> None:
        extra = f" {theirs:.1f} | {mine / theirs:.2f}x |" if theirs else ""
        print(f"| {name} | {mine:.1f} |{extra}")

    for name in job:
        row(f"daily job: {name}", phases[name], base[name] if base else None)
    total = sum(phases[n] for n in job)
    row("**daily job in all**", total, sum(base[n] for n in job) if base else None)
    for name, seconds in phases.items():
        if name not in job:
            row(f"beside it: {name}", seconds, base.get(name) if base else None)
    listed = sum(phases[n] for n in job[:2])
    print(f"\nLoad and list (issue 19): {listed:.1f} s, target < 60 s: "
          f"{'met' if listed < 60 else 'NOT met'}; peak {result['peak_gib']:.1f} GiB, target < 6: "
          f"{'met' if result['peak_gib'] < 6 else 'NOT met'}.")  # fmt: skip
    if baseline:
        theirs = sum(base[n] for n in job[:2])
        print(f"Baseline {against}: {theirs:.1f} s, peak {baseline['peak_gib']:.1f} GiB "
              f"({baseline['high']:,} flagged).")  # fmt: skip
    monitoring = phases["monitoring on the list's features and scores"]
    yardstick = phases["features alone (one pass; yardstick)"]
    print(f"\nMonitoring in the job: {monitoring:.1f} s, {monitoring / yardstick:.2f}x one feature pass; "
          f"target < 10 s: {'met' if monitoring < 10 else 'NOT met'}.")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--against", help="a git ref whose code is measured beside")
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        kind, work = args.child[0], Path(args.child[1])
        if kind == "prepare":
            train_and_promote(work)
            simulate_prefecture(work / "prefecture", int(args.child[2]), LAST_DAY)
            print(json.dumps({}))
        else:
            measure(work)
        return
    with tempfile.TemporaryDirectory(prefix="earlywarn-daily-") as temp:
        prepared = Path(temp)
        run_child(__file__, "--child", "prepare", temp, str(args.cases))
        result = run_child(__file__, "--child", "measure", str(run_directory(prepared, "ours")))
        baseline = None
        if args.against:
            with checkout(args.against) as tree:
                theirs = run_directory(prepared, "baseline")
                baseline = run_child(__file__, "--child", "measure", str(theirs), source=tree)
    report(result, baseline, args.against)


if __name__ == "__main__":
    sys.exit(main())
