"""Features from a case's handling steps, as Polars aggregations, and the clocks they start.

Like the contact features (``events.py``): each step's facts are computed over the
whole table, and the (case, as-of) groups only count, sum or take extremes. The
online path (``features/online.py``) computes the same in numpy; a parity test holds
the two equal.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from earlywarn.contract.rules import (
    ACCEPT_CLOCK_DAYS,
    ANSWER_CLOCK_DAYS,
    ANSWER_CODE,
    REVIEW_DECISIONS,
    REVIEW_STAGE,
)
from earlywarn.features.events import CONTACTS_SINCE, DAY_SECONDS, KEYS, T, days_before_as_of

_TYPE = pl.col("_type")
_OUTCOME = pl.col("_outcome")
# Steps counted per group: (action types, outcome or None: any).
COUNTED: dict[str, tuple[tuple[str, ...], str | None]] = {
    "_accepted": (("accepted",), None),
    "_rejected": (("rejected",), None),
    "transfers": (("transferred",), None),
    "answers": (("responded",), None),
    "unsatisfied_ratings": (("satisfaction",), "unsatisfied"),
    "satisfied_ratings": (("satisfaction",), "satisfied"),
    "reviews_upheld": (REVIEW_DECISIONS, "upheld"),
    "leader_receptions": (("leader_reception",), None),
    "mediations_failed": (("mediation",), "failed"),
    "mediations_agreed": (("mediation",), "agreed"),
    "relief_granted": (("relief_granted",), None),
    "reopened": (("reopened",), None),
}
# The latest moment of a kind of step per group.
LATEST: dict[str, tuple[tuple[str, ...], str | None]] = {
    "_clock_started_at": (("accepted", "reopened"), None),
    "_last_answer_at": (("responded",), None),
    "_last_closed_at": (("closed",), None),
    "_last_reopened_at": (("reopened",), None),
    "_unsatisfied_at": (("satisfaction",), "unsatisfied"),
    "_review_at": (tuple(REVIEW_STAGE), None),
    "_leader_at": (("leader_reception",), None),
    "_mediation_at": (("mediation",), None),
    "_assigned_at": (("assigned",), None),
}
ACTION_HELPERS = (
    "_first_accepted_at", "_clock_started_at", "_last_answer_at", "_last_closed_at", "_last_unit"
)  # fmt: skip
# The step features, then the case-state columns that come from the steps
# (catalogue.CASE_STATE), then the helpers the clocks and ``handling_unit`` read.
ACTION_FEATURES = [
    "accepted", "rejected", "transfers", "distinct_units", "answers", "last_answer_outcome",
    "unsatisfied_ratings", "satisfied_ratings", "days_since_unsatisfied", "review_stage",
    "days_since_review_step", "reviews_upheld", "leader_receptions",
    "days_since_leader_reception", "mediations_failed", "mediations_agreed", "relief_granted",
    "closed", "reopened", "days_since_last_action", "days_since_mediation",
    "days_since_assignment",
]  # fmt: skip


def _is(types: tuple[str, ...], outcome: str | None) -> pl.Expr:
    kind = _TYPE.is_in(list(types))
    return kind if outcome is None else kind & _OUTCOME.eq(outcome)


def _step_rows(rows: pl.LazyFrame) -> pl.LazyFrame:
    """Each step's row-level facts, over the whole table."""
    answer_code = _OUTCOME.replace_strict(ANSWER_CODE, default=0, return_dtype=pl.Int8)
    return rows.with_columns(
        pl.col("action_type").cast(pl.String).alias("_type"),
        pl.col("outcome").cast(pl.String).alias("_outcome"),
    ).with_columns(
        *(_is(*kind).alias(name) for name, kind in COUNTED.items()),
        *(pl.when(_is(*kind)).then(T).alias(name) for name, kind in LATEST.items()),
        pl.when(_TYPE == "accepted").then(T).alias("_first_accepted_at"),
        _TYPE.replace_strict(REVIEW_STAGE, default=0, return_dtype=pl.Int8).alias("_stage"),
        # The latest answer's outcome and the latest named unit, carried forward over the
        # rows without one, so a group's last row holds its latest (or an earlier group's:
        # the group's own count of answers or units says whether it has one at all).
        pl.when(_TYPE == "responded")
        .then(answer_code.fill_null(0))
        .forward_fill()
        .alias("_answer_code"),
        pl.col("unit").cast(pl.String).forward_fill().alias("_unit_carried"),
    )


def aggregate_actions(rows: pl.LazyFrame) -> pl.LazyFrame:
    """One row per (case_id, as_of) from handling steps up to as_of (``build.rows_up_to``)."""
    groups = (
        _step_rows(rows)
        .group_by(KEYS, maintain_order=True)
        .agg(
            *(pl.col(name).sum() for name in COUNTED),
            *(pl.col(name).max() for name in LATEST),
            pl.col("_first_accepted_at").min(),
            pl.col("unit").n_unique().alias("distinct_units"),
            pl.col("_stage").max().alias("review_stage"),
            pl.col("_answer_code").last(),
            pl.col("_unit_carried").last(),
            pl.col("unit").count().alias("_units"),
            T.max().alias("_last_at"),
        )
    )
    closed_at, reopened_at = pl.col("_last_closed_at"), pl.col("_last_reopened_at")
    derived = {
        "accepted": (pl.col("_accepted") > 0).cast(pl.Int8),
        "rejected": (pl.col("_rejected") > 0).cast(pl.Int8),
        "last_answer_outcome": pl.when(pl.col("answers") > 0)
        .then(pl.col("_answer_code"))
        .otherwise(0)
        .cast(pl.Int8),
        "days_since_unsatisfied": days_before_as_of(pl.col("_unsatisfied_at")),
        "days_since_review_step": days_before_as_of(pl.col("_review_at")),
        "days_since_leader_reception": days_before_as_of(pl.col("_leader_at")),
        # Closed unless reopened since its latest closure.
        "closed": (
            closed_at.is_not_null() & (closed_at > reopened_at.fill_null(dt.datetime(1900, 1, 1)))
        ).cast(pl.Int8),
        "days_since_last_action": days_before_as_of(pl.col("_last_at")),
        "days_since_mediation": days_before_as_of(pl.col("_mediation_at")),
        "days_since_assignment": days_before_as_of(pl.col("_assigned_at")),
        "_last_unit": pl.when(pl.col("_units") > 0).then(pl.col("_unit_carried")),
    }
    return groups.select(
        *KEYS, *(derived.get(n, pl.col(n)).alias(n) for n in [*ACTION_FEATURES, *ACTION_HELPERS])
    )


def _days(later: pl.Expr, earlier: pl.Expr) -> pl.Expr:
    return (later - earlier).dt.total_seconds() / DAY_SECONDS


def derived_handling() -> list[pl.Expr]:
    """Clock features from the aggregated handling steps and the case's registration."""
    as_of = pl.col("as_of")
    pending = pl.col("_clock_started_at").is_not_null() & (
        pl.col("_last_answer_at").is_null()
        | (pl.col("_last_answer_at") < pl.col("_clock_started_at"))
    )
    waited = _days(pl.coalesce(pl.col("_first_accepted_at"), as_of), pl.col("registered_at"))
    return [
        _days(as_of, pl.col("registered_at")).alias("case_age_days"),
        (waited - ACCEPT_CLOCK_DAYS).clip(lower_bound=0).alias("acceptance_overdue_days"),
        pl.when(pending)
        .then((_days(as_of, pl.col("_clock_started_at")) - ANSWER_CLOCK_DAYS).clip(lower_bound=0))
        .otherwise(0.0)
        .alias("answer_overdue_days"),
        pending.cast(pl.Int8).alias("answer_pending"),
        # The answer clock while it runs: days since acceptance or reopening (none when
        # no answer is awaited), so the model sees the due day coming, not only passed.
        pl.when(pending)
        .then(_days(as_of, pl.col("_clock_started_at")))
        .otherwise(None)
        .alias("answer_waiting_days"),
    ]


def contacts_since() -> list[pl.Expr]:
    """``CONTACTS_SINCE`` from the contacts counted after each step's moment (none
    counted when the case has no contact): missing without the step."""
    return [
        pl.when(pl.col(moment).is_not_null())
        .then(pl.col(f"_{name}").fill_null(0).cast(pl.Int64))
        .alias(name)
        for name, moment in CONTACTS_SINCE.items()
    ]


def handling_unit() -> pl.Expr:
    """Who handles the case now: the unit of its latest step that names one, else the
    unit that owned it at registration."""
    return pl.coalesce(pl.col("_last_unit"), pl.col("responsible_unit").cast(pl.String)).alias(
        "handling_unit"
    )
