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

from typing import Any

import numpy as np
import polars as pl

REFERENCE_KEY = "reference_percentiles"
TYPICAL_KEY = "typical_contributions"
_PERCENTILES = np.arange(1, 100)
_FLOOR_SHARE = 0.05  # of the mean typical contribution: rare features stay comparable


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
    return float(np.searchsorted(percentiles, float(value), side="left")) / 100.0


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
    floor = _FLOOR_SHARE * (sum(typical.values()) / max(len(typical), 1))
    return contribution / max(typical.get(feature, 0.0), floor, 1e-9)
