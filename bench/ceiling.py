"""What the oracle knows that the records do not: how much of its probability our
features explain, and how much the hidden state adds.

For a world of the family (bench_quality's seeds), the history is simulated again to
keep the full hidden state on the truth day (temper, intensity, agitation, whether the
problem is actually solved, the people behind a grievance, a leader reception planned).
Two LightGBM regressions learn the oracle's logit on 70% of the truth day's cases: from
our features alone, and from our features plus the hidden state. On the other 30%:
R², the average precision of each regression's ranking against the realised labels,
the oracle's own, and the hidden variables that carry most of the gain. A model trained
on labels cannot do better than the first regression on average, so its ratio to the
oracle's average precision is the records' ceiling in that world.

An analysis, not part of ``make bench`` (a few minutes a world):

    python bench/ceiling.py [--seeds 101 102] [--cases 50000] [--truth-day 2025-11-01]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path

import lightgbm as lgb
import numpy as np
import polars as pl
from sklearn.metrics import average_precision_score

from earlywarn.contract import load_dataset
from earlywarn.features.build import build_features
from earlywarn.features.catalogue import CATEGORICAL, FEATURE_NAMES
from earlywarn.simulator.export import simulate_to_directory
from earlywarn.simulator.run import SimulationConfig, simulate
from earlywarn.simulator.state import Cases

TARGETS = ("escalation", "collective")


def hidden_state(cases: Cases, day: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "case_id": [f"C{number:08d}" for number in cases.case_number],
            "hidden_solved": cases.resolved.astype(np.int8),
            "hidden_log_intensity": np.log(cases.intensity),
            "hidden_log_temper": np.log(cases.temper),
            "hidden_agitation": cases.agitation,
            "hidden_log_people": np.log1p(cases.people),
            "hidden_resolvability": cases.resolvability,
            "hidden_leader_planned": (cases.leader_pending_day - day < 30).astype(np.int8),
        }
    )


def _fit_and_score(
    x: np.ndarray, logit: np.ndarray, labels: np.ndarray, test: np.ndarray
) -> tuple[float, float, lgb.Booster]:
    params = {"objective": "regression", "verbosity": -1, "learning_rate": 0.05, "seed": 0}
    booster = lgb.train(params, lgb.Dataset(x[~test], logit[~test]), num_boost_round=400)
    predicted = booster.predict(x[test])
    r2 = 1.0 - float(((predicted - logit[test]) ** 2).mean() / logit[test].var())
    return r2, float(average_precision_score(labels[test], predicted)), booster


def world(seed: int, cases: int, truth_day: dt.date) -> None:
    config = SimulationConfig(
        cases=cases, start=dt.date(2023, 1, 1), end=dt.date(2025, 12, 31), seed=seed,
        family_seed=seed,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as temp:
        data = Path(temp)
        simulate_to_directory(config, data, "parquet", truth_day)
        snapshot = simulate(config, truth_day).snapshot  # the same history, its hidden state
        assert snapshot is not None
        truth = pl.read_parquet(data / "truth.parquet")
        features = build_features(load_dataset(data), [truth["as_of"][0]])
    joined = features.join(truth, on="case_id").join(
        hidden_state(snapshot.cases, snapshot.day), on="case_id", how="left"
    )
    ours = [n for n in FEATURE_NAMES if n not in CATEGORICAL]
    hidden = [c for c in joined.columns if c.startswith("hidden_")]
    test = np.random.default_rng(0).random(joined.height) < 0.3
    for target in TARGETS:
        p = joined[f"{target}_probability"].to_numpy().clip(1e-4, 1 - 1e-4)
        logit = np.log(p / (1 - p))
        labels = joined[f"{target}_label"].cast(pl.Int8).to_numpy()
        oracle_ap = float(average_precision_score(labels[test], logit[test]))
        r2_ours, ap_ours, _ = _fit_and_score(
            joined.select(ours).to_numpy().astype(float), logit, labels, test
        )
        names = ours + hidden
        r2_all, ap_all, booster = _fit_and_score(
            joined.select(names).to_numpy().astype(float), logit, labels, test
        )
        gain = booster.feature_importance("gain")
        shares = {names[i]: gain[i] / gain.sum() for i in np.argsort(-gain)}
        top_hidden = ", ".join(f"{n} {s:.0%}" for n, s in shares.items() if n in hidden)
        print(
            f"| {seed} | {target} | {r2_ours:.3f} | {r2_all:.3f} | {ap_ours / oracle_ap:.3f} "
            f"| {ap_all / oracle_ap:.3f} | {top_hidden} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[101, 102])
    parser.add_argument("--cases", type=int, default=50_000)
    parser.add_argument("--truth-day", type=dt.date.fromisoformat, default=dt.date(2025, 11, 1))
    args = parser.parse_args()
    print(
        "| world | target | R² of the oracle's logit, our features | with the hidden state "
        "| AP / oracle AP, our features | with the hidden state | share of the gain, hidden |"
    )
    print("|---|---|---:|---:|---:|---:|---|")
    for seed in args.seeds:
        world(seed, args.cases, args.truth_day)


if __name__ == "__main__":
    main()
