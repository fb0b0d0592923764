"""Features from a case's own contacts, as Polars aggregations; helpers shared with the steps.

The batch path runs these over many (case, as-of) groups at once. The online path
(``features/online.py``) computes the same features for one posted case in numpy;
a parity test holds the two equal.

Input rows come from ``build.rows_up_to``: limited to ``occurred_at <= as_of``, with each
group's rows together and in time order. Everything a feature needs row by row (inside
a window, an escalation, an interval) is computed over the whole table first, and the
groups only sum, count or take extremes: aggregations Polars runs in one vectorised
pass, where per-group expressions (a filter or a shift inside ``agg``) ran group by
group and took five times as long on a million cases.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from earlywarn.contract.rules import GROUP_THRESHOLD
from earlywarn.contract.spec import LEVELS

KEYS = ["case_id", "as_of"]
SMALL_ASK = 20  # pairs fewer than a twentieth of a table's rows: a few cases asked for
COUNTY = LEVELS.index("county")
NATIONAL = LEVELS.index("national")
DAY_SECONDS = 86_400.0
HEAT_DAYS = 14.0
# The heat is summed in fixed point (units of 2^-40, far below any split a model makes):
# an integer sum is the same in any order, and Polars adds a group's floats in an order
# that depends on how the rows were split between threads.
HEAT_UNITS = float(2**40)
WINDOWS = (7, 30, 90, 365)  # days back from as_of that contacts are counted in

AS_OF = pl.col("as_of")
T = pl.col("occurred_at")
_RANK = pl.col("_rank")
_SIZE = pl.col("group_size")
# Step moments after which contacts are counted (handling.py sets them; missing without one).
CONTACTS_SINCE = {
    "contacts_since_answer": "_last_answer_at",
    "contacts_since_closure": "_last_closed_at",
}


def days_before_as_of(moment: pl.Expr) -> pl.Expr:
    """Whole seconds from ``moment`` to as_of, in days."""
    return (AS_OF - moment).dt.total_seconds() / DAY_SECONDS


def within(days: int) -> pl.Expr:
    return AS_OF - dt.timedelta(days=days) < T


def group_start() -> pl.Expr:
    """True on the first row of each (case, as-of) group (its rows are together)."""
    new_case = pl.col("case_id") != pl.col("case_id").shift(1)
    return (new_case | (AS_OF.shift(1) != AS_OF)).fill_null(True)


def _previous_highest_level() -> pl.Expr:
    """The highest level among the group's earlier rows (missing on its first row): a
    running maximum over the whole table, made per group by lifting each group's ranks
    above every earlier group's (ranks are below 8)."""
    lift = pl.col("_start").cum_sum().cast(pl.Int64) * 8
    return pl.when(pl.col("_start")).then(None).otherwise((lift + _RANK).cum_max().shift(1) - lift)


def _contact_rows(rows: pl.LazyFrame) -> pl.LazyFrame:
    """Each contact's row-level facts, over the whole table."""
    escalation = pl.max_horizontal(_previous_highest_level().fill_null(COUNTY), COUNTY) < _RANK
    # The interval from the group's previous contact (none on its first row).
    soon_after = (T.diff().dt.total_seconds() < 3 * DAY_SECONDS) & ~pl.col("_start")
    group = _SIZE >= GROUP_THRESHOLD
    return (
        rows.with_columns(
            group_start().alias("_start"),
            pl.col("level").to_physical().cast(pl.Int16).alias("_rank"),  # Enum order = level order
        )
        .with_columns(
            *(within(days).alias(f"_w{days}") for days in WINDOWS),
            escalation.alias("_escalation"),
            (soon_after & (_RANK.shift(1) != _RANK)).alias("_other_office"),
            # Agitation as it fades: every contact weighs exp(-days ago / 14).
            ((-days_before_as_of(T) / HEAT_DAYS).exp() * HEAT_UNITS + 0.5)
            .floor()
            .cast(pl.Int64)
            .alias("_heat"),
            group.alias("_group"),
            (_RANK > COUNTY).alias("_above_county"),
        )
        .with_columns(
            (pl.col("_w90") & (pl.col("channel").cast(pl.String) == "visit")).alias("_visit_90"),
            (within(120) & ~pl.col("_w30")).alias("_prior_90"),  # the 90 days before the 30
            pl.when(pl.col("_escalation")).then(T).alias("_escalated_at"),
            (pl.col("_escalation") & pl.col("_w90")).alias("_escalation_90"),
            (pl.col("_group") & pl.col("_w30")).alias("_group_30"),
            (pl.col("_group") & pl.col("_w90")).alias("_group_90"),
            pl.when(pl.col("_w90")).then(_SIZE).alias("_size_recent"),
            pl.when(~pl.col("_w90")).then(_SIZE).alias("_size_before"),
            *((pl.col(moment) < T).alias(f"_{name}") for name, moment in CONTACTS_SINCE.items()),
        )
    )


def _summed(column: str, name: str) -> pl.Expr:
    return pl.col(column).sum().alias(name)


def aggregate_contacts(rows: pl.LazyFrame) -> pl.LazyFrame:
    """One row per (case_id, as_of) from contacts up to as_of (``build.rows_up_to``), with
    the ``CONTACTS_SINCE`` moments of the group on each row: the catalogue's contact
    features, then the contacts after each moment (``_`` + the feature's name)."""
    groups = (
        _contact_rows(rows)
        .group_by(KEYS, maintain_order=True)
        .agg(
            *(_summed(f"_w{days}", f"contacts_{days}d") for days in WINDOWS),
            pl.len().cast(pl.UInt32).alias("contacts_total"),
            _summed("_visit_90", "visits_90d"),
            T.max().alias("_last_at"),
            T.min().alias("_first_at"),
            _summed("_prior_90", "_prior_90"),
            pl.col("channel").n_unique().alias("distinct_channels"),
            _summed("_other_office", "multi_office_contacts"),
            _summed("_heat", "contact_heat"),
            _RANK.max().alias("max_level"),
            _RANK.last().alias("last_level"),
            _summed("_escalation", "escalation_events"),
            pl.col("_escalated_at").max(),
            _summed("_escalation_90", "escalations_90d"),
            _summed("_above_county", "contacts_above_county"),
            _SIZE.max().alias("max_group_size"),
            _SIZE.last().alias("last_group_size"),
            _summed("_group", "group_contacts"),
            _summed("_group_30", "group_contacts_30d"),
            _summed("_group_90", "group_contacts_90d"),
            pl.col("_size_recent").max(),
            pl.col("_size_before").max(),
            *(_summed(f"_{name}", f"_{name}") for name in CONTACTS_SINCE),
        )
    )
    derived = _from_group_totals()
    return groups.select(
        *KEYS,
        *(derived.get(name, pl.col(name)).alias(name) for name in CONTACT_FEATURES),
        *(f"_{name}" for name in CONTACTS_SINCE),
    )


def _from_group_totals() -> dict[str, pl.Expr]:
    """The contact features not taken from ``agg`` as they are."""
    first = days_before_as_of(pl.col("_first_at"))
    return {
        "days_since_last_contact": days_before_as_of(pl.col("_last_at")),
        "days_since_first_contact": first,
        "contact_acceleration": (pl.col("contacts_30d") + 1.0) / (pl.col("_prior_90") / 3.0 + 1.0),
        "repeat_petition": (pl.col("contacts_total") >= 3).cast(pl.Int8),
        # How readily this matter brings people back, whatever its age: contacts per 30
        # days since the first one (a month at least, so one fresh contact is no storm).
        "contacts_per_month": pl.col("contacts_total") / pl.max_horizontal(first, 30.0) * 30.0,
        "contact_heat": pl.col("contact_heat") / HEAT_UNITS,
        "days_since_escalation": days_before_as_of(pl.col("_escalated_at")),
        "level_headroom": NATIONAL - pl.col("max_level"),
        "group_size_growth": pl.col("_size_recent").fill_null(0)
        - pl.col("_size_before").fill_null(0),
    }


# The contact features in the catalogue's family order.
CONTACT_FEATURES = [
    "contacts_7d", "contacts_30d", "contacts_90d", "contacts_365d", "contacts_total",
    "visits_90d", "days_since_last_contact", "days_since_first_contact",
    "contact_acceleration", "distinct_channels", "multi_office_contacts", "repeat_petition",
    "contact_heat", "contacts_per_month", "max_level", "last_level", "escalation_events",
    "days_since_escalation", "escalations_90d", "contacts_above_county", "level_headroom",
    "max_group_size", "last_group_size", "group_contacts", "group_contacts_30d",
    "group_contacts_90d", "group_size_growth",
]  # fmt: skip
