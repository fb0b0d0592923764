"""Figures of the trends page: flags per day, share reviewed, how past lists turned out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from earlywarn.contract import Dataset
from earlywarn.serving.store import Review, RiskList, RiskListItem
from earlywarn.serving.web.casefile import outcomes

DAYS_SHOWN = 90


@dataclass(frozen=True, order=True)
class DayFigures:
    day: dt.date
    as_of: dt.datetime
    escalation_flags: int
    collective_flags: int
    flagged: int
    reviewed: int


@dataclass(frozen=True)
class TrackRecord:
    target: str
    lists: int
    flagged: int
    happened: int

    @property
    def precision(self) -> float | None:
        return self.happened / self.flagged if self.flagged else None


def _scope(county: str | None, category: str | None = None) -> list[ColumnElement[bool]]:
    chosen = [RiskListItem.county_code == county] if county else []
    return chosen + ([RiskListItem.category == category] if category else [])


def flags_per_day(db: Session, county: str | None, category: str | None) -> list[DayFigures]:
    """Per stored list (newest ``DAYS_SHOWN``): flags by target and how many were reviewed."""
    either = RiskListItem.escalation_flag | RiskListItem.collective_flag
    reviewed_case = (
        select(Review.case_id)
        .where(Review.list_date == RiskList.list_date, Review.case_id == RiskListItem.case_id)
        .exists()
    )
    query = (
        select(
            RiskList.list_date,
            RiskList.as_of,
            func.sum(case((RiskListItem.escalation_flag, 1), else_=0)),
            func.sum(case((RiskListItem.collective_flag, 1), else_=0)),
            func.sum(case((either, 1), else_=0)),
            func.sum(case((either & reviewed_case, 1), else_=0)),
        )
        .join(RiskListItem, RiskListItem.list_id == RiskList.id)
        .where(*_scope(county, category))
        .group_by(RiskList.list_date, RiskList.as_of)
        .order_by(RiskList.list_date.desc())
        .limit(DAYS_SHOWN)
    )
    return sorted(
        (DayFigures(d, a, int(e or 0), int(c or 0), int(f or 0), int(r or 0)))
        for d, a, e, c, f, r in db.execute(query)
    )


def flags_by_category(db: Session, county: str | None, list_date: dt.date) -> dict[str, int]:
    either = RiskListItem.escalation_flag | RiskListItem.collective_flag
    query = (
        select(RiskListItem.category, func.count())
        .join(RiskList, RiskListItem.list_id == RiskList.id)
        .where(RiskList.list_date == list_date, either, *_scope(county))
        .group_by(RiskListItem.category)
    )
    counts = {str(category): int(count) for category, count in db.execute(query)}
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def track_record(
    db: Session, dataset: Dataset, county: str | None, category: str | None, horizon_days: int
) -> list[TrackRecord]:
    """Of the cases each past list flagged, how many did what was feared within the
    horizon (precision of the flags), over the lists whose window has passed."""
    query = (
        select(
            RiskListItem.case_id,
            RiskList.as_of,
            RiskListItem.escalation_flag,
            RiskListItem.collective_flag,
        )
        .join(RiskList, RiskListItem.list_id == RiskList.id)
        .where(
            RiskListItem.escalation_flag | RiskListItem.collective_flag,
            *_scope(county, category),
        )
    )
    rows = db.execute(query).all()
    flagged = pl.DataFrame(
        rows,
        schema={
            "case_id": pl.String,
            "as_of": pl.Datetime("us"),
            "escalation_flag": pl.Boolean,
            "collective_flag": pl.Boolean,
        },
        orient="row",
    )
    answered = outcomes(dataset, flagged, horizon_days)
    records = []
    for target in ("escalation", "collective"):
        chosen = answered.filter(pl.col(f"{target}_flag"))
        records.append(
            TrackRecord(
                target=target,
                lists=chosen["as_of"].n_unique(),
                flagged=chosen.height,
                happened=int(chosen[target].fill_null(False).sum()),
            )
        )
    return records
