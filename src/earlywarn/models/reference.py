"""The reference cases of a model: where a case stands among the cases the model was
checked on.

Training keeps, in the artifact's ``meta``, the percentiles of each numeric
feature over the validation snapshots (the latest open cases it saw), so that a
reason's sentence can say "more than 96% of open cases" on every path without
the training data (monitoring can read the same frozen edges); and each
feature's typical contribution among the validation cases the model would list,
so that a case's reasons lead with what sets it apart from the other listed
cases rather than with what all of them share.
"""

from __future__ import annotations

import bisect
from typing import Any

import numpy as np
import polars as pl

REFERENCE_KEY = "reference_percentiles"
TYPICAL_KEY = "typical_contributions"
# Each backtest day's share of cases at or above the flag threshold: what monitoring
# holds a day's share flagged against (a slow rise passes the earlier days' band).
FLAG_SHARE_KEY = "backtest_flag_shares"
_PERCENTILES = np.arange(1, 100)
_FLOOR_SHARE = 0.05  # of the mean typical contribution: rare features stay comparable
_FLOORS: dict[int, tuple[dict[str, float], float]] = {}  # id(typical) -> (typical, floor)


def reference_percentiles(features: pl.DataFrame, names: list[str]) -> dict[str, list[float]]:
    """The 1st to 99th percentile of each numeric feature among ``names`` (nulls left out)."""
    reference: dict[str, list[float]] = {}
    for name in names:
        column = features.get_column(name)
        if not column.dtype.is_numeric():
            continue
        values = column.drop_nulls().cast(pl.Float64).drop_nans().to_numpy()
        if values.size:
            reference[name] = np.percentile(values, _PERCENTILES).round(6).tolist()
    return reference


def share_below(meta: dict[str, Any], feature: str, value: Any) -> float | None:
    """Roughly the share of reference cases with a smaller value; None when unknown."""
    percentiles = meta.get(REFERENCE_KEY, {}).get(feature)
    if not percentiles or not isinstance(value, int | float) or value != value:
        return None
    return bisect.bisect_left(percentiles, float(value)) / 100.0  # a list: no array made


def typical_contributions(contributions: np.ndarray, names: list[str]) -> dict[str, float]:
    """Per feature, its mean positive contribution over the listed reference cases
    (TreeSHAP rows, bias last): how much it usually pushes a listed case up."""
    pushing = np.clip(contributions[:, :-1], 0.0, None)
    means = pushing.mean(axis=0) if pushing.shape[0] else np.zeros(len(names))
    return {name: round(float(mean), 6) for name, mean in zip(names, means, strict=True)}


def salience(meta: dict[str, Any], feature: str, contribution: float) -> float:
    """How unusual this contribution is for a listed case: the contribution over the
    feature's typical one. Without typical contributions (older models), the
    contribution itself."""
    typical = meta.get(TYPICAL_KEY)
    if not typical:
        return contribution
    held = _FLOORS.get(id(typical))
    if held is None or held[0] is not typical:  # once per loaded model
        held = _FLOORS[id(typical)] = (typical, _FLOOR_SHARE * sum(typical.values()) / len(typical))
    return contribution / max(typical.get(feature, 0.0), held[1], 1e-9)


DRIFT_KEY = "drift_reference"
_DECILES = np.arange(10, 100, 10)


def _numeric_bins(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """Counts per bin: (-inf, e0], (e0, e1], ..., (e_last, inf)."""
    positions = np.searchsorted(np.asarray(edges), values, side="left")
    return np.bincount(positions, minlength=len(edges) + 1)


def shares_of(entry: dict[str, Any], column: pl.Series) -> np.ndarray:
    """The shares of a column (the reference's, or a day's) over a reference entry's bins,
    missing values last."""
    height = max(column.len(), 1)
    missing = column.null_count()
    present = column.drop_nulls()
    if "edges" in entry:
        values = present.cast(pl.Float64).to_numpy()
        nans = int(np.isnan(values).sum())
        counts = _numeric_bins(values[~np.isnan(values)], entry["edges"])
        missing += nans
    else:
        known = {value: i for i, value in enumerate(entry["categories"])}
        codes = present.cast(pl.String).replace_strict(
            known, default=len(known), return_dtype=pl.Int64
        )
        counts = np.bincount(codes.to_numpy(), minlength=len(known) + 1)
    return np.append(counts, missing) / height


def drift_reference(features: pl.DataFrame, names: list[str]) -> dict[str, dict[str, Any]]:
    """Frozen bins per feature for drift checks, from the reference cases: deciles for
    numbers (ties merged), the categories seen for codes; each with the reference's
    share per bin and, last, the share missing. A day's check then costs one pass over
    that day's features."""
    reference: dict[str, dict[str, Any]] = {}
    for name in names:
        column = features.get_column(name)
        entry: dict[str, Any]
        if column.dtype.is_numeric():
            values = column.drop_nulls().cast(pl.Float64).drop_nans().to_numpy()
            edges = np.unique(np.percentile(values, _DECILES)) if values.size else np.zeros(0)
            entry = {"edges": [round(float(e), 6) for e in edges]}
        else:
            seen = column.drop_nulls().cast(pl.String).unique().sort().to_list()
            entry = {"categories": seen}
        entry["shares"] = [round(float(s), 6) for s in shares_of(entry, column)]
        reference[name] = entry
    return reference
