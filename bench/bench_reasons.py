"""How varied and actionable the sample's list is: the top 50 rows' first reasons and steps.

Runs the main job as a new user would (``earlywarn run --no-serve --data
data/sample`` in a fresh work directory: train, promote, build the list), then
reads the stored list. Beside it, in the same run and on the same models, the
baseline: the three strongest TreeSHAP contributions as they were shown before
(no kinds, no themes, values that say nothing included).

Issue 13's bar: among the top 50, no reason is the first of more than 30% of rows,
every row has a step, and no step is the first of more than 50%.
"""

from __future__ import annotations

import collections
import datetime as dt
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import polars as pl

from earlywarn.contract import load_dataset
from earlywarn.contract.rules import TARGETS, end_of_day
from earlywarn.features.build import build_features
from earlywarn.models import registry
from earlywarn.models.reasons import describe, from_json
from earlywarn.models.steps import from_json as steps_from_json
from earlywarn.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
TOP = 50


def share(counter: collections.Counter[str], total: int) -> tuple[str, float]:
    key, count = counter.most_common(1)[0]
    return key, count / total


def baseline_first_reasons(work: Path, day: dt.date, cases: list[str]) -> collections.Counter[str]:
    """The strongest raw contribution of the target that listed each case (old behaviour)."""
    registry.connect(load_settings(work_dir=work))
    models = registry.load_models()
    dataset = load_dataset(ROOT / "data" / "sample")
    features = build_features(dataset, [end_of_day(day)])
    rows = features.filter(pl.col("case_id").is_in(cases))
    first: collections.Counter[str] = collections.Counter()
    best = np.full(rows.height, -np.inf)
    names = np.empty(rows.height, dtype=object)
    for target in TARGETS:
        model = models.models[target]
        contributions = model.contributions(rows)[:, :-1]
        top = contributions.argmax(axis=1)
        value = contributions.max(axis=1)
        better = value > best
        best[better] = value[better]
        names[better] = np.array(model.feature_names, dtype=object)[top[better]]
    first.update(str(n) for n in names)
    return first


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        environment = os.environ | {"EARLYWARN_WORK_DIR": str(work)}
        command = [str(Path(sys.executable).parent / "earlywarn"), "run", "--no-serve", "--data"]
        subprocess.run(
            [*command, str(ROOT / "data" / "sample")],
            check=True,
            env=environment,
            cwd=ROOT,
            capture_output=True,
        )
        import sqlite3

        with sqlite3.connect(work / "earlywarn.db") as db:
            list_id, day_text = db.execute(
                "select id, list_date from risk_lists order by list_date desc limit 1"
            ).fetchone()
            rows = db.execute(
                "select case_id, risk_band, reasons, steps, escalation_probability,"
                " collective_probability from risk_list_items where list_id = ? order by rank",
                (list_id,),
            ).fetchall()
        day = dt.date.fromisoformat(day_text)
        top = rows[:TOP]
        first_reason: collections.Counter[str] = collections.Counter()
        first_kind: collections.Counter[str] = collections.Counter()
        first_step: collections.Counter[str] = collections.Counter()
        without_step = 0
        for _, _, reasons_text, steps_text, _, _ in top:
            reasons = from_json(reasons_text)
            steps = steps_from_json(steps_text)
            first_reason[reasons[0].feature if reasons else "(none)"] += 1
            first_kind[reasons[0].kind if reasons else "(none)"] += 1
            first_step[steps[0].key if steps else "(none)"] += 1
            without_step += not steps
        baseline = baseline_first_reasons(work, day, [r[0] for r in top])
        probabilities = np.array([p for r in rows for p in r[4:]])
        reason_key, reason_share = share(first_reason, len(top))
        step_key, step_share = share(first_step, len(top))
        base_key, base_share = share(baseline, len(top))
        print(f"The sample's list of {day} ({len(rows)} cases), top {len(top)} rows.\n")
        print("| measure | earlywarn | baseline (raw top contribution) | bar |")
        print("|---|---|---|---|")
        print(
            f"| most common first reason | `{reason_key}` {reason_share:.0%} | `{base_key}` {base_share:.0%} | ≤ 30% |"
        )
        print(f"| distinct first reasons | {len(first_reason)} | {len(baseline)} | |")
        print(f"| rows without a step | {without_step} | - | 0 |")
        print(f"| most common first step | `{step_key}` {step_share:.0%} | - | ≤ 50% |")
        print(f"| distinct first steps | {len(first_step)} | - | |")
        kinds = ", ".join(f"{k} {v}" for k, v in first_kind.most_common())
        print(f"| first reason's kind | {kinds} | - | background never first |")
        print(
            f"| probabilities on the list | min {probabilities.min():.2e}, max {probabilities.max():.4f} | - | inside (0, 1) |"
        )
        print("\nThe first ten rows as a reviewer reads them:\n")
        print("| rank | reasons | steps |")
        print("|---|---|---|")
        for rank, (_, _, reasons_text, steps_text, _, _) in enumerate(top[:10], start=1):
            reasons = "；".join(describe(r, "zh") for r in from_json(reasons_text))
            steps = "；".join(s.text("zh") for s in steps_from_json(steps_text))
            print(f"| {rank} | {reasons} | {steps} |")


if __name__ == "__main__":
    main()
