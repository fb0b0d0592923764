"""Features from a case's own contacts and handling steps, as Polars aggregations.

The batch path runs these over many (case, as-of) groups at once. The online path
(``features/online.py``) computes the same features for one posted case in numpy;
a parity test holds the two equal. Input rows are already limited to
``occurred_at <= as_of`` and sorted by time within a group.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from earlywarn.contract.rules import (
    ACCEPT_CLOCK_DAYS,
    ANSWER_CLOCK_DAYS,
    ANSWER_CODE,
    GROUP_THRESHOLD,
    REVIEW_DECISIONS,
    REVIEW_STAGE,
)
from earlywarn.contract.spec import LEVELS

KEYS = ["case_id", "as_of"]
COUNTY = LEVELS.index("county")
NATIONAL = LEVELS.index("national")
DAY_SECONDS = 86_400.0
HEAT_DAYS = 14.0

_AS_OF = pl.col("as_of").first()
_T = pl.col("occurred_at")
_RANK = pl.col("level").to_physical().cast(pl.Int16)  # Enum order = level order
_SIZE = pl.col("group_size")


def _days_since(moment: pl.Expr) -> pl.Expr:
    return (_AS_OF - moment).dt.total_seconds() / DAY_SECONDS


def _within(days: int) -> pl.Expr:
    return _AS_OF - dt.timedelta(days=days) < _T


def _escalation() -> pl.Expr:
    """A contact above every earlier contact's level, with county as the first bar."""
    before = pl.max_horizontal(_RANK.cum_max().shift(1).fill_null(COUNTY), pl.lit(COUNTY))
    return before < _RANK


CONTACT_AGGREGATIONS: list[pl.Expr] = [
    *(_within(days).sum().alias(f"contacts_{days}d") for days in (7, 30, 90, 365)),
    pl.len().cast(pl.UInt32).alias("contacts_total"),
    (_within(90) & (pl.col("channel").cast(pl.String) == "visit")).sum().alias("visits_90d"),
    _days_since(_T.max()).alias("days_since_last_contact"),
    _days_since(_T.min()).alias("days_since_first_contact"),
    ((_within(30).sum() + 1.0) / ((_within(120) & ~_within(30)).sum() / 3.0 + 1.0)).alias(
        "contact_acceleration"
    ),
    pl.col("channel").n_unique().alias("distinct_channels"),
    ((_T.diff().dt.total_seconds() < 3 * DAY_SECONDS) & (_RANK.shift(1) != _RANK))
    .sum()
    .alias("multi_office_contacts"),
    (pl.len() >= 3).cast(pl.Int8).alias("repeat_petition"),
    # Agitation as it fades: every contact weighs exp(-days ago / 14), a fortnight's memory.
    (-_days_since(_T) / HEAT_DAYS).exp().sum().alias("contact_heat"),
    # How readily this matter brings people back, whatever its age: contacts per 30 days
    # since the first one (a month at least, so that one fresh contact is not a storm).
    (pl.len() / pl.max_horizontal(_days_since(_T.min()), pl.lit(30.0)) * 30.0).alias(
        "contacts_per_month"
    ),
    _RANK.max().alias("max_level"),
    _RANK.last().alias("last_level"),
    _escalation().sum().alias("escalation_events"),
    _days_since(_T.filter(_escalation()).max()).alias("days_since_escalation"),
    (_escalation() & _within(90)).sum().alias("escalations_90d"),
    (_RANK > COUNTY).sum().alias("contacts_above_county"),
    (NATIONAL - _RANK.max()).alias("level_headroom"),
    _SIZE.max().alias("max_group_size"),
    _SIZE.last().alias("last_group_size"),
    (_SIZE >= GROUP_THRESHOLD).sum().alias("group_contacts"),
    ((_SIZE >= GROUP_THRESHOLD) & _within(30)).sum().alias("group_contacts_30d"),
    ((_SIZE >= GROUP_THRESHOLD) & _within(90)).sum().alias("group_contacts_90d"),
    (
        _SIZE.filter(_within(90)).max().fill_null(0) - _SIZE.filter(~_within(90)).max().fill_null(0)
    ).alias("group_size_growth"),
]

_TYPE = pl.col("action_type").cast(pl.String)
_OUTCOME = pl.col("outcome").cast(pl.String)


def _last_time(*types: str) -> pl.Expr:
    return _T.filter(_TYPE.is_in(list(types))).max()


def _count(action_type: str, outcome: str | None = None) -> pl.Expr:
    match = _TYPE.eq(action_type)
    if outcome is not None:
        match = match & _OUTCOME.eq(outcome)
    return match.sum()


ACTION_AGGREGATIONS: list[pl.Expr] = [
    (_count("accepted") > 0).cast(pl.Int8).alias("accepted"),
    (_count("rejected") > 0).cast(pl.Int8).alias("rejected"),
    _T.filter(_TYPE == "accepted").min().alias("_first_accepted_at"),
    _last_time("accepted", "reopened").alias("_clock_started_at"),
    _last_time("responded").alias("_last_answer_at"),
    _last_time("closed").alias("_last_closed_at"),
    _count("transferred").alias("transfers"),
    pl.col("unit").n_unique().alias("distinct_units"),
    _count("responded").alias("answers"),
    _OUTCOME.filter(_TYPE == "responded")
    .last()
    .replace_strict(ANSWER_CODE, default=0, return_dtype=pl.Int8)
    .fill_null(0)
    .alias("last_answer_outcome"),
    _count("satisfaction", "unsatisfied").alias("unsatisfied_ratings"),
    _count("satisfaction", "satisfied").alias("satisfied_ratings"),
    _days_since(_T.filter((_TYPE == "satisfaction") & (_OUTCOME == "unsatisfied")).max()).alias(
        "days_since_unsatisfied"
    ),
    _TYPE.replace_strict(REVIEW_STAGE, default=0, return_dtype=pl.Int8).max().alias("review_stage"),
    _days_since(_last_time(*REVIEW_STAGE)).alias("days_since_review_step"),
    (_TYPE.is_in(REVIEW_DECISIONS) & (_OUTCOME == "upheld")).sum().alias("reviews_upheld"),
    _count("leader_reception").alias("leader_receptions"),
    _days_since(_last_time("leader_reception")).alias("days_since_leader_reception"),
    _count("mediation", "failed").alias("mediations_failed"),
    _count("mediation", "agreed").alias("mediations_agreed"),
    _count("relief_granted").alias("relief_granted"),
    (
        _last_time("closed").is_not_null()
        & (_last_time("closed") > _last_time("reopened").fill_null(dt.datetime(1900, 1, 1)))
    )
    .cast(pl.Int8)
    .alias("closed"),
    _count("reopened").alias("reopened"),
    _days_since(_T.max()).alias("days_since_last_action"),
    # Case state for the steps (catalogue.CASE_STATE), not model inputs.
    _days_since(_last_time("mediation")).alias("days_since_mediation"),
    _days_since(_last_time("assigned")).alias("days_since_assignment"),
    pl.col("unit").cast(pl.String).drop_nulls().last().alias("_last_unit"),
]


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


def aggregate_contacts(rows: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """One row per (case_id, as_of) from contacts up to as_of, sorted by time."""
    return rows.lazy().group_by(KEYS, maintain_order=True).agg(CONTACT_AGGREGATIONS)


def aggregate_actions(rows: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """One row per (case_id, as_of) from handling steps up to as_of, sorted by time."""
    return rows.lazy().group_by(KEYS, maintain_order=True).agg(ACTION_AGGREGATIONS)


ACTION_HELPERS = (
    "_first_accepted_at", "_clock_started_at", "_last_answer_at", "_last_closed_at", "_last_unit"
)  # fmt: skip
# Contacts after a handling step, by the moment of the step: an answer or a closure that
# did not settle the matter is followed by more contacts (one that did, by silence).
CONTACTS_SINCE = {
    "contacts_since_answer": "_last_answer_at",
    "contacts_since_closure": "_last_closed_at",
}


def contacts_since(frame: pl.DataFrame, contacts: pl.DataFrame) -> pl.DataFrame:
    """``CONTACTS_SINCE`` for each row of ``frame`` (KEYS, contacts_total and the step
    moments): the case's contacts up to as_of minus those up to the step (missing
    without the step). The step is at or before as_of, so nothing later is read."""
    running = (
        contacts.select("case_id", "occurred_at")
        .sort("case_id", "occurred_at")
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("case_id").alias("_n"))
        .sort("occurred_at", maintain_order=True)
    )
    result = frame.select(KEYS)
    for name, moment in CONTACTS_SINCE.items():
        before = (
            frame.select(*KEYS, moment, "contacts_total")
            .filter(pl.col(moment).is_not_null())
            .sort(moment)
            .join_asof(
                running,
                left_on=moment,
                right_on="occurred_at",
                by="case_id",
                strategy="backward",
                check_sortedness=False,
            )
            .select(*KEYS, (pl.col("contacts_total") - pl.col("_n").fill_null(0)).alias(name))
        )
        result = result.join(before, on=KEYS, how="left", maintain_order="left")
    return result


def handling_unit() -> pl.Expr:
    """Who handles the case now: the unit of its latest step that names one, else the
    unit that owned it at registration."""
    return pl.coalesce(pl.col("_last_unit"), pl.col("responsible_unit").cast(pl.String)).alias(
        "handling_unit"
    )
