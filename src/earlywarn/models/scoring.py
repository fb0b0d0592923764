"""Apply the two models to features: the score file of the data contract (section 5)."""

from __future__ import annotations

import numpy as np
import polars as pl

from earlywarn.features.catalogue import BY_NAME
from earlywarn.models.artifact import RiskModel

REASONS_SHOWN = 3


def _reason_text(name: str, value: object) -> str:
    spec = BY_NAME[name]
    if spec.unit == "flag":
        shown = "是 yes" if value else "否 no"
    elif isinstance(value, float) and not np.isnan(value):
        shown = f"{value:.0f}"
    else:
        shown = "-" if value is None else str(value)
    return f"{spec.label_zh} / {spec.label_en}: {shown}"


def explain(
    model: RiskModel, features: pl.DataFrame, rows: np.ndarray, top: int = REASONS_SHOWN
) -> list[list[tuple[str, float]]]:
    """The strongest positive contributions (raw score) behind each chosen row, strongest first."""
    if rows.size == 0:
        return []
    return strongest(model, model.contributions(features[rows]), top)


def strongest(
    model: RiskModel, contributions: np.ndarray, top: int = REASONS_SHOWN
) -> list[list[tuple[str, float]]]:
    """Per row of TreeSHAP output (bias last): the top positive features, strongest first."""
    values = contributions[:, :-1]
    order = np.argsort(-values, axis=1, kind="stable")[:, :top]
    chosen = np.take_along_axis(values, order, axis=1)
    names = model.feature_names
    return [
        [(names[i], float(v)) for i, v in zip(row_order, row_values, strict=True) if v > 0]
        for row_order, row_values in zip(order.tolist(), chosen.tolist(), strict=True)
    ]


def score_table(
    features: pl.DataFrame, models: dict[str, RiskModel], versions: dict[str, str]
) -> pl.DataFrame:
    """One row per case: probabilities, flags, band, reasons (flagged and medium rows), versions."""
    columns: dict[str, object] = {"case_id": features["case_id"], "as_of": features["as_of"]}
    high = np.zeros(features.height, dtype=bool)
    medium = np.zeros(features.height, dtype=bool)
    contributions: dict[int, list[tuple[str, float]]] = {}
    for target, model in models.items():
        probability = model.probability(features)
        band = model.bands(probability)
        columns[f"{target}_probability"] = probability
        columns[f"{target}_flag"] = band == "high"
        high |= band == "high"
        medium |= band == "medium"
        # Explanations are costly: only for rows a person will read.
        chosen = np.flatnonzero(band != "low")
        for row, reasons in zip(chosen.tolist(), explain(model, features, chosen), strict=True):
            contributions.setdefault(row, []).extend(reasons)
    band = np.where(high, "high", np.where(medium, "medium", "low"))
    reasons_text = [""] * features.height
    for row, reasons in contributions.items():
        strongest: dict[str, float] = {}
        for name, contribution in reasons:  # a feature behind both targets counts once
            strongest[name] = max(strongest.get(name, 0.0), contribution)
        best = sorted(strongest.items(), key=lambda item: -item[1])
        reasons_text[row] = "; ".join(
            _reason_text(name, features[name][row]) for name, _ in best[:REASONS_SHOWN]
        )
    version = ", ".join(versions.values())
    return pl.DataFrame(columns).with_columns(
        pl.Series("risk_band", band),
        pl.Series("reasons", reasons_text),
        pl.lit(version).alias("model_version"),
    ).select(
        "case_id", "as_of", "escalation_probability", "collective_probability", "escalation_flag",
        "collective_flag", "risk_band", "reasons", "model_version",
    )  # fmt: skip
