"""The events behind the context features: one row per event, keyed by what it counts for.

Each event belongs to one case (a contact, a step, a registration), so the events of
any set of cases are computed from those cases' rows alone; the running totals over
them (``context.py``) need every event of a key, wherever its cases are.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from earlywarn.contract.rules import ANSWER_CLOCK_DAYS, GROUP_THRESHOLD
from earlywarn.contract.spec import CATEGORY_FAMILY

_ANSWER_CLOCK = dt.timedelta(days=ANSWER_CLOCK_DAYS)
_HIGH = ["city", "province", "national"]
# Per family of context: the columns that key its running totals, and what they count.
FAMILY_KEYS = {
    "petitioner": ["petitioner_id"],
    "township": ["township_code", "family"],
    "county": ["county_code", "family"],
    "unit": ["unit"],
}
FAMILY_COUNTS = {
    "petitioner": ["cases", "high", "groups", "contacts", "unsatisfied", "settled"],
    "township": ["groups"],
    "county": ["groups", "contacts"],
    "unit": ["answers", "late", "transfers", "owned"],
}


def family_of(category: pl.Expr) -> pl.Expr:
    return category.cast(pl.String).replace_strict(CATEGORY_FAMILY, default="other")


def context_events(
    cases: pl.DataFrame, contacts: pl.DataFrame, actions: pl.DataFrame | None
) -> dict[str, pl.DataFrame]:
    """Per family of ``FAMILY_KEYS``: its events (key columns, ``at``, counts), unsorted."""
    owners = cases.select(
        "case_id", "petitioner_id", "township_code", "county_code",
        family_of(pl.col("category")).alias("family"),
    )  # fmt: skip
    marked = contacts.join(owners, on="case_id").select(
        "petitioner_id",
        "township_code",
        "county_code",
        "family",
        pl.col("occurred_at").alias("at"),
        pl.col("level").cast(pl.String).is_in(_HIGH).cast(pl.Int64).alias("high"),
        (pl.col("group_size") >= GROUP_THRESHOLD).cast(pl.Int64).alias("groups"),
    )
    registrations = cases.select(
        "petitioner_id", pl.col("registered_at").alias("at"), pl.lit(1, pl.Int64).alias("cases")
    )
    petitioner = pl.concat(
        [
            registrations,
            marked.select(
                "petitioner_id", "at", "high", "groups", pl.lit(1, pl.Int64).alias("contacts")
            ),
            _petitioner_steps(cases, actions),
        ],
        how="diagonal_relaxed",
    ).fill_null(0)
    return {
        "petitioner": petitioner,
        "township": marked.filter(pl.col("groups") > 0).select(
            "township_code", "family", "at", "groups"
        ),
        "county": marked.select(
            "county_code", "family", "at", "groups", pl.lit(1, pl.Int64).alias("contacts")
        ),
        "unit": _unit_events(cases, actions),
    }


def _petitioner_steps(cases: pl.DataFrame, actions: pl.DataFrame | None) -> pl.DataFrame:
    """Unsatisfied ratings, and closures (+1) and reopenings (-1) as ``settled``, per
    petitioner: the other matters' outcomes and how many of them are still open."""
    if actions is None:
        return pl.DataFrame(
            schema={"petitioner_id": pl.String, "at": pl.Datetime("us"),
                    "unsatisfied": pl.Int64, "settled": pl.Int64}
        )  # fmt: skip
    kind, outcome = pl.col("action_type"), pl.col("outcome")  # Enum or String: both compare
    return (
        actions.filter(
            ((kind == "satisfaction") & (outcome == "unsatisfied"))
            | kind.is_in(["closed", "reopened"])
        )
        .join(cases.select("case_id", "petitioner_id"), on="case_id")
        .select(
            "petitioner_id",
            pl.col("occurred_at").alias("at"),
            (kind == "satisfaction").cast(pl.Int64).alias("unsatisfied"),
            ((kind == "closed").cast(pl.Int64) - (kind == "reopened").cast(pl.Int64)).alias(
                "settled"
            ),
        )
    )


def _unit_events(cases: pl.DataFrame, actions: pl.DataFrame | None) -> pl.DataFrame:
    """Answers (late or not), transfers and owned cases per unit, each at its moment."""
    owned = cases.select(
        pl.col("responsible_unit").alias("unit"),
        pl.col("registered_at").alias("at"),
        pl.lit(1, pl.Int64).alias("owned"),
    )
    if actions is None:
        return owned.with_columns(
            answers=pl.lit(0, pl.Int64), late=pl.lit(0, pl.Int64), transfers=pl.lit(0, pl.Int64)
        )
    kind = pl.col("action_type")
    clocks = actions.filter(kind.is_in(["accepted", "reopened"])).select(
        "case_id", pl.col("occurred_at").alias("clock")
    )
    answers = (
        actions.filter(kind == "responded")
        .select("case_id", "unit", "occurred_at")
        .sort("occurred_at")
        .join_asof(
            clocks.sort("clock"),
            left_on="occurred_at",
            right_on="clock",
            by="case_id",
            check_sortedness=False,
        )
        .select(
            "unit",
            pl.col("occurred_at").alias("at"),
            pl.lit(1, pl.Int64).alias("answers"),
            ((pl.col("occurred_at") - pl.col("clock")) > _ANSWER_CLOCK)
            .fill_null(False)
            .cast(pl.Int64)
            .alias("late"),
        )
    )
    transfers = actions.filter(kind == "transferred").select(
        "unit", pl.col("occurred_at").alias("at"), pl.lit(1, pl.Int64).alias("transfers")
    )
    return (
        pl.concat([owned, answers, transfers], how="diagonal")
        .fill_null(0)
        .filter(pl.col("unit").is_not_null())
    )
