"""The treatment ledger: which listed cases the office acted on, with which step, when.

A case the office acted on because it was listed may not escalate *because* it
was acted on. The ledger joins each day's listed rows (medium and high bands)
with the reviews recorded for them, so that list performance can be reported
for acted-on and other cases apart, and training can leave out the outcomes an
action touched (docs/treatment.md).
"""

from __future__ import annotations

from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from earlywarn.contract.spec import OFFICE_TIME_ZONE
from earlywarn.serving.store import Review, RiskList, RiskListItem

ACTED = "action_taken"
_SCHEMA: dict[str, Any] = {
    "list_date": pl.Date,
    "as_of": pl.Datetime("us"),
    "case_id": pl.String,
    "risk_band": pl.String,
    "flagged": pl.Boolean,
    "decision": pl.String,
    "step": pl.String,
    "reviewed_at": pl.Datetime("us"),
}


def treatment_ledger(session: Session) -> pl.DataFrame:
    """One row per listed case and day: its band, whether it was flagged, and the latest
    review of it on that day's list (decision, step, when in office time; empty when
    none), with ``acted`` true for an action taken."""
    listed = session.execute(
        select(RiskList.list_date, RiskList.as_of, RiskListItem.case_id, RiskListItem.risk_band,
               RiskListItem.escalation_flag | RiskListItem.collective_flag)
        .join(RiskList, RiskListItem.list_id == RiskList.id)
        .where(RiskListItem.risk_band != "low")
    ).all()  # fmt: skip
    reviews = session.execute(
        select(Review.list_date, Review.case_id, Review.decision, Review.step, Review.created_at)
        .order_by(Review.created_at, Review.id)
    ).all()  # fmt: skip
    rows = pl.DataFrame(
        [(*row, None, None, None) for row in listed], schema=_SCHEMA, orient="row"
    ).drop("decision", "step", "reviewed_at")
    latest = (
        pl.DataFrame(
            reviews,
            schema={
                k: _SCHEMA[k] for k in ("list_date", "case_id", "decision", "step", "reviewed_at")
            },
            orient="row",
        )
        .group_by("list_date", "case_id", maintain_order=True)
        .last()
    )
    in_office_time = (  # reviews are stored in UTC; the lists' moments are office time
        pl.col("reviewed_at")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(OFFICE_TIME_ZONE)
        .dt.replace_time_zone(None)
    )
    return rows.join(latest, on=["list_date", "case_id"], how="left").with_columns(
        (pl.col("decision") == ACTED).fill_null(False).alias("acted"), in_office_time
    )


def acted_on(session: Session) -> pl.DataFrame:
    """case_id and acted_at for every action the office recorded on a listed case."""
    ledger = treatment_ledger(session)
    return ledger.filter(pl.col("acted")).select("case_id", pl.col("reviewed_at").alias("acted_at"))
