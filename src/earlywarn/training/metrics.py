"""How good a score is where the office feels it: at its capacity, per day, per slice.

The office's capacity at one as-of moment is the larger of 2% of the scoring
population and 50 cases (settings); precision and recall at capacity rank the
cases of each moment separately, as the daily list does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from earlywarn.models.capacity import Capacity as Capacity  # re-exported: training imports it here


def expected_calibration_error(
    labels: np.ndarray, probability: np.ndarray, bins: int = 20
) -> float:
    """Mean |observed - predicted| over equal-count bins, weighted by bin size."""
    order = np.argsort(probability, kind="stable")
    total = 0.0
    for chunk in np.array_split(order, bins):
        if chunk.size:
            total += chunk.size * abs(labels[chunk].mean() - probability[chunk].mean())
    return total / max(labels.size, 1)


def calibration_curve(
    labels: np.ndarray, probability: np.ndarray, bins: int = 10
) -> list[tuple[float, float, int]]:
    order = np.argsort(probability, kind="stable")
    return [
        (float(probability[c].mean()), float(labels[c].mean()), int(c.size))
        for c in np.array_split(order, bins)
        if c.size
    ]


def top_k_flags(
    frame: pl.DataFrame, score: str, capacity: Capacity, share: float | None = None
) -> np.ndarray:
    """True for the top cases of each as-of moment: capacity, or a share of the population."""
    ranked = frame.select(
        pl.col(score).rank("ordinal", descending=True).over("as_of").alias("rank"),
        pl.len().over("as_of").alias("population"),
    )
    population = ranked["population"].to_numpy()
    if share is None:
        # ``Capacity.at`` for every row at once (a Python call per row took seconds on a
        # large backtest); the same float product and ceiling, so the same limits.
        wanted = np.maximum(np.ceil(capacity.share * population), capacity.minimum)
        limit = np.minimum(population, wanted)
    else:
        limit = np.maximum(np.ceil(share * population), 1)
    return ranked["rank"].to_numpy() <= limit


def score_metrics(
    frame: pl.DataFrame, label: str, score: str, capacity: Capacity
) -> dict[str, float]:
    """ROC-AUC, PR-AUC, Brier, ECE, precision/recall at capacity and at top 1% and 5%, lift."""
    y = frame[label].cast(pl.Int8).to_numpy()
    p = frame[score].cast(pl.Float64).to_numpy()
    result: dict[str, float] = {
        "rows": float(y.size),
        "positives": float(y.sum()),
        "base_rate": float(y.mean()),
    }
    if 0 < y.sum() < y.size:
        result |= {"roc_auc": roc_auc_score(y, p), "pr_auc": average_precision_score(y, p)}
    result |= {
        "brier": brier_score_loss(y, np.clip(p, 0, 1)),
        "ece": expected_calibration_error(y, np.clip(p, 0, 1)),
    }
    for name, share in (("capacity", None), ("top1pct", 0.01), ("top5pct", 0.05)):
        flagged = top_k_flags(frame, score, capacity, share)
        hits = float((flagged & (y == 1)).sum())
        result[f"precision_at_{name}"] = hits / max(flagged.sum(), 1)
        result[f"recall_at_{name}"] = hits / max(y.sum(), 1)
        if share is None:  # the counts behind the list's precision, for its interval
            result["capacity_hits"], result["capacity_places"] = hits, float(flagged.sum())
    result["lift_at_capacity"] = result["precision_at_capacity"] / max(result["base_rate"], 1e-12)
    return {k: float(v) for k, v in result.items()}


def per_group(
    frame: pl.DataFrame,
    by: str,
    label: str,
    score: str,
    capacity: Capacity,
    flag: str | None = None,
) -> pl.DataFrame:
    """The headline figures per as-of moment or per slice (category, county).

    ``flag``: the column of the office's list (each day's top cases of the whole
    population); precision and recall at capacity are then those of the list's cases in
    the slice. Without it each group is ranked on its own with the whole capacity,
    which is the list itself for a day, but for a slice a list of its own: a small
    category would show recall 1.0 and the bias audit's rates would disagree."""
    rows: list[dict[str, Any]] = []
    for key, part in frame.group_by(by, maintain_order=True):
        figures = score_metrics(part, label, score, capacity)
        if flag is not None:
            flagged = part[flag].to_numpy()
            y = part[label].cast(pl.Int8).to_numpy() == 1
            hits = float((flagged & y).sum())
            figures["precision_at_capacity"] = hits / max(float(flagged.sum()), 1.0)
            figures["recall_at_capacity"] = hits / max(float(y.sum()), 1.0)
        rows.append(
            {
                by: key[0],
                **{
                    k: figures.get(k)
                    for k in (
                        "rows",
                        "positives",
                        "roc_auc",
                        "precision_at_capacity",
                        "recall_at_capacity",
                    )
                },
            }
        )
    return pl.DataFrame(rows).sort(by)


BIAS_MIN_POSITIVES = 10  # a group's rates are compared once it has this many positives
# A group is named when its cases that did escalate were caught at under four fifths of
# the overall rate (the four-fifths rule of adverse impact, applied to the rate of
# catching, equal opportunity), and chance alone would rarely give so few: p < 0.05.
CAUGHT_LESS_RATIO = 0.8
CAUGHT_LESS_P = 0.05


def bias_audit(
    frame: pl.DataFrame, by: str, label: str, flag: str
) -> tuple[pl.DataFrame, dict[str, float]]:
    """Flag rate and true-positive rate per group, with the largest ratio and gap called
    out, and each group judged: ``caught_less`` when its positives were caught clearly
    less often than all positives (``CAUGHT_LESS_RATIO``, ``CAUGHT_LESS_P``). A flag rate
    that differs is not judged: the groups' risks differ."""
    from scipy.stats import binom

    table = (
        frame.group_by(by)
        .agg(
            pl.len().alias("rows"),
            pl.col(flag).mean().alias("flag_rate"),
            pl.col(label).sum().alias("positives"),
            (pl.col(flag) & pl.col(label)).sum().alias("true_positives"),
        )
        .with_columns((pl.col("true_positives") / pl.col("positives")).alias("tpr"))
        .sort(by)
    )
    positives = int(table["positives"].sum())
    overall = float(table["true_positives"].sum()) / positives if positives else 0.0
    # The chance of catching this few of the group's positives at the overall rate.
    chance = binom.cdf(table["true_positives"].to_numpy(), table["positives"].to_numpy(), overall)
    table = table.with_columns(
        (pl.col("tpr") / overall if overall else pl.lit(None, pl.Float64)).alias("tpr_vs_all"),
        pl.Series("p_caught_this_few", chance, pl.Float64),
    ).with_columns(
        (
            (pl.col("positives") >= BIAS_MIN_POSITIVES)
            & (pl.col("tpr_vs_all") < CAUGHT_LESS_RATIO)
            & (pl.col("p_caught_this_few") < CAUGHT_LESS_P)
        )
        .fill_null(False)
        .alias("caught_less")
    )
    enough = table.filter(pl.col("positives") >= BIAS_MIN_POSITIVES)
    # Said with the figures: the groups with fewer positives are in the table, not here.
    summary: dict[str, float] = {
        "groups": float(table.height),
        f"groups_with_{BIAS_MIN_POSITIVES}_positives_judged": float(enough.height),
        "tpr_all": overall,
        "groups_caught_less": float(table["caught_less"].sum()),
    }
    for column in ("flag_rate", "tpr"):
        values = enough[column].drop_nulls().to_numpy() if enough.height else np.array([])
        if values.size >= 2:
            summary[f"{column}_max_gap"] = float(values.max() - values.min())
            summary[f"{column}_max_ratio"] = (
                float(values.max() / values.min()) if values.min() > 0 else float("inf")
            )
    return table, summary
