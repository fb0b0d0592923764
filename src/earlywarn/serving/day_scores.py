"""A day's population scored: the list's rows in reading order, the score file, and what
the list job keeps beside them (the features changes compare, the rows explained later).

``embedded_scores`` computes them on this machine; ``earlywarn.spark.day`` on a cluster,
from the same functions (``list_rows``, ``rank_rows``), so both give the same list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from earlywarn.contract import Dataset
from earlywarn.contract.rules import TARGETS
from earlywarn.features.build import build_features, sources_for
from earlywarn.models.artifact import RiskModel
from earlywarn.models.capacity import Capacity
from earlywarn.models.reasons import to_json
from earlywarn.models.registry import LoadedModels
from earlywarn.models.scoring import Chooser, ScoredTable, score_frame, score_table
from earlywarn.models.steps import to_json as steps_to_json

BAND_ORDER = {"high": 0, "medium": 1, "low": 2}  # the reading order: high first
LIST_COLUMNS = ["case_id", "county_code", "category", "days_since_last_contact"]


@dataclass(frozen=True)
class DayScores:
    items: pl.DataFrame  # the list's rows in reading order, ranked (changes not yet known)
    scores: pl.DataFrame  # the score file (contract section 5)
    needed: pl.DataFrame  # case_id and the features the next list's changes compare
    unexplained: pl.DataFrame  # features of the listed rows whose reasons come on demand
    # Features of (case_id, as_of) pairs at an earlier moment, for the changes since then.
    earlier: Callable[[pl.DataFrame], pl.DataFrame]
    features: pl.DataFrame | None = None  # all of the day's features, when on this machine
    probability: dict[str, np.ndarray] | None = None  # per target, row by row of features


# (as_of, first moment the context must cover) -> the day scored
DayScorer = Callable[[dt.datetime, dt.datetime], DayScores]


def urgency(models: dict[str, RiskModel], probability: dict[str, np.ndarray]) -> np.ndarray:
    """How far past its alert threshold each row is, on the target furthest past."""
    ratios = [probability[t] / max(models[t].threshold, 1e-12) for t in TARGETS]
    return np.asarray(np.maximum.reduce(ratios))


def reading_order(
    models: dict[str, RiskModel],
    probability: dict[str, np.ndarray],
    risk_band: np.ndarray,
    case_ids: pl.Series,
) -> np.ndarray:
    """Row numbers in the order people read the list: band, then how far past its alert
    threshold, then the case id (a stable order for equal scores)."""
    frame = pl.DataFrame(
        {
            "band": pl.Series(risk_band, dtype=pl.String).replace_strict(
                BAND_ORDER, return_dtype=pl.Int8
            ),
            "urgency": urgency(models, probability),
            "case_id": case_ids,
        }
    )
    ordered = frame.with_row_index("row").sort(
        ["band", "urgency", "case_id"], descending=[False, True, False]
    )
    return ordered["row"].to_numpy()


def explained_count(capacity: Capacity, rows: int, high: int) -> int:
    """How many rows from the top of the list the job explains: the office's capacity,
    or every flagged row if there are more (flagged rows come first in the order)."""
    return max(capacity.at(rows), high)


def rows_read(models: dict[str, RiskModel], case_ids: pl.Series, capacity: Capacity) -> Chooser:
    """The rows the job explains (``explained_count`` from the top of the list). The other
    rows of the medium band get their reasons on demand (``serving.reasons_later``)."""

    def choose(probability: dict[str, np.ndarray], risk_band: np.ndarray) -> np.ndarray:
        order = reading_order(models, probability, risk_band, case_ids)
        read = explained_count(capacity, len(order), int(np.count_nonzero(risk_band == "high")))
        chosen = np.zeros(len(order), dtype=bool)
        chosen[order[:read]] = True
        return chosen

    return choose


def list_rows(scored: ScoredTable, features: pl.DataFrame) -> pl.DataFrame:
    """The list's columns for each row of ``features``, in its order; reasons and steps
    kept as data (JSON), as ``models.scoring`` gave them."""
    return features.select(LIST_COLUMNS).with_columns(
        pl.Series("escalation_probability", scored.probability["escalation"]),
        pl.Series("collective_probability", scored.probability["collective"]),
        pl.Series("escalation_flag", scored.band["escalation"] == "high"),
        pl.Series("collective_flag", scored.band["collective"] == "high"),
        pl.Series("risk_band", scored.risk_band),
        pl.Series("reasons", [to_json(r) for r in scored.reasons], dtype=pl.String),
        pl.Series("steps", [steps_to_json(s) for s in scored.steps], dtype=pl.String),
    )


def rank_rows(
    rows: pl.DataFrame, townships: pl.DataFrame, models: dict[str, RiskModel]
) -> pl.DataFrame:
    """``list_rows`` in the order people read them (``reading_order``), ranked, with the
    case's township (``townships``: case_id, township_code)."""
    probability = {t: rows[f"{t}_probability"].to_numpy() for t in TARGETS}
    order = reading_order(models, probability, rows["risk_band"].to_numpy(), rows["case_id"])
    return (
        rows[order]
        .join(townships, on="case_id", how="left", maintain_order="left")
        .with_columns(pl.col("category").cast(pl.String))
        .with_row_index("rank", offset=1)
        .with_columns(pl.col("rank").cast(pl.Int64))
    )


def list_items(
    scored: ScoredTable, features: pl.DataFrame, cases: pl.DataFrame, models: dict[str, RiskModel]
) -> pl.DataFrame:
    """The list in the order people read it, ranked."""
    townships = cases.select("case_id", "township_code")
    return rank_rows(list_rows(scored, features), townships, models)


def unexplained(features: pl.DataFrame, scored: ScoredTable) -> pl.DataFrame:
    """The features of the listed rows the job did not explain, by case id: what their
    reasons are computed from when someone opens them."""
    waiting = [
        band != "low" and not reasons
        for band, reasons in zip(scored.risk_band.tolist(), scored.reasons, strict=True)
    ]
    return features.filter(pl.Series(waiting, dtype=pl.Boolean)).sort("case_id")


def embedded_scores(dataset: Dataset, models: LoadedModels, capacity: Capacity) -> DayScorer:
    """The day scored on this machine, with Polars and every core (the score file by
    case id, as a cluster writes it)."""

    def run(as_of: dt.datetime, first: dt.datetime) -> DayScores:
        sources = sources_for(dataset, first, as_of)  # both moments' context and calendar
        features = build_features(dataset, [as_of], sources=sources)
        choose = rows_read(models.models, features["case_id"], capacity)
        scored = score_frame(models, features, choose=choose)

        def earlier(pairs: pl.DataFrame) -> pl.DataFrame:
            return build_features(dataset, pairs["as_of"].unique().to_list(), pairs, sources)

        return DayScores(
            items=list_items(scored, features, dataset.cases, models.models),
            scores=score_table(features, models, scored).sort("case_id"),
            needed=features,
            unexplained=unexplained(features, scored),
            earlier=earlier,
            features=features,
            probability=scored.probability,
        )

    return run
