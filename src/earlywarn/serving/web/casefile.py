"""One case's history for the office page, and how flagged cases of past lists turned out.

Read from the dataset the service scores against (``serve --data``): the case's
contacts and handling steps up to the list's moment, the sensitive periods that
concern it, and the score request that explains it through the online path.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from earlywarn.contract import Dataset
from earlywarn.features.labels import label_pairs
from earlywarn.features.sensitive import CalendarIndex
from earlywarn.serving.monitor.quality import outcomes_known_until
from earlywarn.serving.schemas import ScoreRequest


@dataclass(frozen=True)
class CaseFile:
    case: dict[str, Any]
    contacts: list[dict[str, Any]]  # oldest first, up to the list's moment
    actions: list[dict[str, Any]]


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    plain = frame.with_columns(pl.col(pl.Enum, pl.Categorical).cast(pl.String))
    return (
        plain.sort("occurred_at").to_dicts() if "occurred_at" in plain.columns else plain.to_dicts()
    )


def case_file(dataset: Dataset, case_id: str, as_of: dt.datetime) -> CaseFile | None:
    """The case and what happened to it before ``as_of`` (nothing after reaches the page)."""
    cases = _rows(dataset.cases.filter(pl.col("case_id") == case_id))
    if not cases:
        return None
    before = (pl.col("case_id") == case_id) & (pl.col("occurred_at") < as_of)
    contacts = _rows(dataset.contacts.filter(before))
    actions = _rows(dataset.actions.filter(before)) if dataset.actions is not None else []
    return CaseFile(cases[0], contacts, actions)


def score_request(found: CaseFile, as_of: dt.datetime) -> ScoreRequest:
    return ScoreRequest.model_validate(
        {"case": found.case, "contacts": found.contacts, "actions": found.actions, "as_of": as_of}
    )


def sensitive_periods(
    calendar: CalendarIndex, county: str, category: str, first: dt.date, last: dt.date
) -> list[tuple[dt.date, dt.date]]:
    """The runs of days sensitive for this case, first and last day of each."""
    start, days = calendar.sensitive_days(county, category, first, last)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], days.astype(np.int8), [0]])))
    return [
        (start + dt.timedelta(days=int(begin)), start + dt.timedelta(days=int(end) - 1))
        for begin, end in zip(edges[::2], edges[1::2], strict=True)
    ]


def outcomes(dataset: Dataset, flagged: pl.DataFrame, horizon_days: int) -> pl.DataFrame:
    """Did the flagged cases (case_id, as_of) escalate / come back as a group within the
    horizon? Only pairs whose whole window lies inside the data are answered."""
    known_until = outcomes_known_until(dataset, dt.datetime.max)  # the monitoring's rule
    if flagged.is_empty() or known_until is None:
        return flagged.with_columns(
            pl.lit(None, pl.Boolean).alias("escalation"),
            pl.lit(None, pl.Boolean).alias("collective"),
        ).head(0)
    matured = flagged.filter(
        pl.col("as_of") + pl.duration(days=horizon_days) <= pl.lit(known_until)
    )
    labels = label_pairs(matured.select("case_id", "as_of"), dataset.contacts, horizon_days)
    return matured.join(labels, on=["case_id", "as_of"], how="left")
