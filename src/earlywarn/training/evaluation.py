"""The backtest of one target: the model beside its baselines, per as-of day and slice, the
bias audit, the top features, the learning curve and, with simulated data, the oracle.

Every score is measured on every backtest row; how the baselines and the learning curve
are fitted (on a sample, or on every fit row) is the plan's (training/plan.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl
from sklearn.metrics import average_precision_score, roc_auc_score

from earlywarn.contract.loader import Dataset
from earlywarn.features.build import build_features
from earlywarn.features.catalogue import FEATURE_NAMES
from earlywarn.models.artifact import RiskModel
from earlywarn.training.baselines import baseline_scores
from earlywarn.training.fit import fit_calibrated
from earlywarn.training.matrices import Matrices
from earlywarn.training.metrics import (
    Capacity,
    bias_audit,
    calibration_curve,
    per_group,
    score_metrics,
    top_k_flags,
)
from earlywarn.training.phases import timed
from earlywarn.training.plan import EvaluationPlan, evaluation_notes, sample_fit_rows
from earlywarn.training.report import TargetReport
from earlywarn.training.snapshots import Split

LEARNING_SHARES = (0.25, 0.5, 1.0)


@dataclass(frozen=True)
class Oracle:
    """The truth's cases at its moment, with their features: built once for every target."""

    as_of: dt.datetime
    joined: pl.DataFrame


def oracle_cases(dataset: Dataset, truth: pl.DataFrame) -> Oracle:
    as_of = truth["as_of"][0]
    features = build_features(dataset, [as_of]).join(
        truth.select("case_id"), on="case_id", how="semi"
    )
    return Oracle(as_of, features.join(truth, on="case_id"))


def _oracle(model: RiskModel, oracle: Oracle, capacity: Capacity) -> dict[str, float]:
    """Model and oracle ROC-AUC and average precision on the truth's cases and realised
    labels, at the truth's moment; and the mean oracle probability of each one's list
    at capacity."""
    joined = oracle.joined
    labels = joined[f"{model.target}_label"].cast(pl.Int8).to_numpy()
    if not 0 < labels.sum() < labels.size:
        return {}
    ours = model.probability(joined)
    best = joined[f"{model.target}_probability"].to_numpy()
    roc = roc_auc_score(labels, ours), roc_auc_score(labels, best)
    # Average precision is what a short list feels: how many listed cases really escalate.
    ap = average_precision_score(labels, ours), average_precision_score(labels, best)
    # The true risk a list of the office's capacity holds, by the oracle's probabilities:
    # far steadier than any figure on one day's realised labels.
    scored = joined.select("as_of", pl.Series("model", ours), pl.Series("oracle", best))
    held = [best[top_k_flags(scored, name, capacity)].mean() for name in ("model", "oracle")]
    return {
        # The day as YYYYMMDD: read at a glance, the same metric in every time zone.
        "as_of": float(f"{oracle.as_of:%Y%m%d}"),
        "cases": float(labels.size),
        "positives": float(labels.sum()),
        "model_roc_auc": roc[0],
        "oracle_roc_auc": roc[1],
        "ratio": roc[0] / roc[1],
        "model_average_precision": ap[0],
        "oracle_average_precision": ap[1],
        "average_precision_ratio": ap[0] / ap[1],
        "model_list_risk": float(held[0]),
        "oracle_list_risk": float(held[1]),
        "list_risk_ratio": float(held[0] / held[1]),
    }


def _per_day(
    backtest: pl.DataFrame, target: str, model: RiskModel, capacity: Capacity
) -> pl.DataFrame:
    """The headline figures per backtest day, with what the daily list would have shown
    that day: the places of the capacity, and the cases at or above the model's flag
    threshold and its medium band (a list flags by threshold, not by place: on a day
    riskier than the validation days it flags more than the capacity)."""
    counts = backtest.group_by("as_of").agg(
        pl.len().alias("_cases"),
        (pl.col("model") >= model.threshold).sum().alias("flagged_at_threshold"),
        (pl.col("model") >= model.medium_threshold).sum().alias("medium_or_high"),
    )
    counts = counts.with_columns(
        pl.Series("places", [capacity.at(n) for n in counts["_cases"]], pl.Int64)
    ).drop("_cases")
    return per_group(backtest, "as_of", target, "model", capacity).join(
        counts, on="as_of", how="left"
    )


def _importance(model: RiskModel, frame: pl.DataFrame, rows: int = 2000) -> list[tuple[str, float]]:
    sample = frame.sample(n=min(rows, frame.height), seed=0)
    mean_abs = np.abs(model.contributions(sample)[:, :-1]).mean(axis=0)
    order = np.argsort(-mean_abs)
    return [(model.feature_names[i], float(mean_abs[i])) for i in order]


def _learning_curve(
    split: Split,
    target: str,
    model: RiskModel,
    backtest: pl.DataFrame,
    x_backtest: np.ndarray,
    capacity: Capacity,
    refit: bool,
) -> pl.DataFrame:
    """Backtest quality when only the most recent share of the fit period is used: the
    points below 100% refitted (when ``refit``), the 100% point the model itself."""
    curve = []
    moments = split.fit["as_of"].unique().sort()
    for share in LEARNING_SHARES if refit else (1.0,):
        since = moments[int((1 - share) * (moments.len() - 1))]
        part = split.fit.filter(pl.col("as_of") >= since)
        if share < 1:
            # The same recipe as the model, without its thresholds and references.
            smaller = fit_calibrated(part, split.validation, target, model.meta.get("params"))
            same_codes = smaller.vocab == model.vocab
            probability = smaller.probability_of(
                x_backtest if same_codes else smaller.matrix(split.backtest)
            )
        else:  # the model itself, already scored
            probability = backtest["model"].to_numpy()
        figures = score_metrics(
            backtest.with_columns(pl.Series("s", probability)), target, "s", capacity
        )
        curve.append(
            {
                "share": share,
                "fit_rows": part.height,
                "roc_auc": figures.get("roc_auc"),
                "pr_auc": figures.get("pr_auc"),
            }
        )
    return pl.DataFrame(curve)


def evaluate(
    split: Split,
    target: str,
    model: RiskModel,
    capacity: Capacity,
    plan: EvaluationPlan,
    oracle: Oracle | None,
    phases: dict[str, float],
    matrices: Matrices | None = None,
) -> TargetReport:
    """The report of one target, its baselines and learning curve fitted as ``plan`` says."""
    # The run's matrices are in the catalogue's order, every fitted model's; any other
    # order (a model made elsewhere) gets its own.
    shared = (matrices or Matrices()) if model.feature_names == list(FEATURE_NAMES) else None
    x_backtest = (  # scored by the model, the baselines and the curve points
        model.matrix(split.backtest) if shared is None else shared.of(split.backtest, model.vocab)
    )
    backtest = split.backtest.with_columns(
        pl.Series("model", model.calibrator(model.raw_of(x_backtest, threads=0)))
    )
    with timed(phases, f"baselines_{target}"):
        sample = sample_fit_rows(split.fit, target, plan.baseline_rows)
        x_fit = None if shared is None else shared.of(sample.frame, model.vocab)
        scores = {"model": backtest["model"].to_numpy()} | baseline_scores(
            sample.frame, split.backtest, target, model.feature_names, model.vocab,
            sample.weights, x_fit, x_backtest,
        )  # fmt: skip
    metrics = {}
    for name, score in scores.items():
        metrics[name] = score_metrics(
            backtest.with_columns(pl.Series("s", score)), target, "s", capacity
        )
    flagged = backtest.with_columns(pl.Series("flag", top_k_flags(backtest, "model", capacity)))
    with timed(phases, f"learning_curve_{target}"):
        curve = _learning_curve(
            split, target, model, backtest, x_backtest, capacity, plan.learning_curve
        )
    labels = backtest[target].cast(pl.Int8).to_numpy()
    return TargetReport(
        target=target,
        labels=labels,
        scores=scores,
        metrics=metrics,
        calibration=calibration_curve(labels, backtest["model"].to_numpy()),
        stability=_per_day(backtest, target, model, capacity),
        slices={
            by: per_group(flagged, by, target, "model", capacity, flag="flag")
            for by in ("category", "county_code")
        },
        bias={by: bias_audit(flagged, by, target, "flag") for by in ("county_code", "category")},
        importance=_importance(model, split.backtest),
        learning_curve=curve,
        oracle=_oracle(model, oracle, capacity) if oracle is not None else {},
        notes=evaluation_notes(sample, plan.learning_curve),
        fit_rows={
            "fit": sample.drawn_from,
            "baselines": sample.rows,
            "learning_curve_refits": curve.height - 1,
        },
    )
