"""Features that look beyond the case: its petitioner, similar groups nearby, its unit.

Each is read from a cumulative event table (running totals per key over time)
with an as-of join, so that any number of as-of moments costs one join and
nothing after the moment can be seen. The online path reads the same running totals,
as arrays it searches by key (``online_context``). One moment or a few (the daily list) sum each
key's events up to the moment instead: the same totals, without sorting the history.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from earlywarn.features.context_events import (
    FAMILY_COUNTS,
    FAMILY_KEYS,
    context_events,
    family_of,
)
from earlywarn.features.events import KEYS, SMALL_ASK

WINDOW = dt.timedelta(days=30)
RECENT = dt.timedelta(days=90)  # the petitioner's recent contacts on other matters
WEEK = dt.timedelta(days=7)  # similar matters' contacts in the county: this week against
PRIOR_DAYS = 83.0  # the 83 days before it (a local event no calendar lists shows as a surge)
FEW_MOMENTS = 3  # as-of moments summed one by one; more read the running totals
# What the petitioner's running totals count (one row per event), and the case's own
# features subtracted from them so that only the other matters count.
PETITIONER_COUNTS = FAMILY_COUNTS["petitioner"]
OWN = (
    "contacts_above_county", "group_contacts", "group_contacts_30d", "contacts_7d",
    "contacts_90d", "unsatisfied_ratings", "closed",
)  # fmt: skip
FAMILIES = tuple(FAMILY_KEYS)
# Per family, what is read from its running totals: (at which moment, which counts, as
# which prefix). Each read is one as-of join by the family's key.
LOOKUPS: dict[str, list[tuple[str, list[str], str]]] = {
    "petitioner": [
        ("as_of", PETITIONER_COUNTS, "mine"),
        ("recent_start", ["contacts"], "mine_then"),
    ],
    "township": [("as_of", ["groups"], "town_now"), ("window_start", ["groups"], "town_then")],
    "county": [
        ("as_of", ["groups", "contacts"], "county_now"),
        ("window_start", ["groups"], "county_then"),
        ("week_start", ["contacts"], "county_week"),
        ("recent_start", ["contacts"], "county_quarter"),
    ],
    "unit": [("as_of", FAMILY_COUNTS["unit"], "unit")],
}
LOOKED_UP = [
    f"{prefix}_{c}" for reads in LOOKUPS.values() for _, counts, prefix in reads for c in counts
]


def running_totals(events: pl.DataFrame, family: str) -> pl.DataFrame:
    """Running totals of a family's counts per key over ``at``, sorted by time for the
    as-of joins (events of the same moment in their given order). A key's totals read
    only that key's events."""
    key, counts = FAMILY_KEYS[family], FAMILY_COUNTS[family]
    return events.sort("at", maintain_order=True).with_columns(
        pl.col(c).cum_sum().over(key) for c in counts
    )


class ContextIndex:
    """Per family, its events (key columns, ``at``, counts) and, made on first use, their
    running totals per key over time. Many moments at once (training) and the service read
    the running totals; one moment or a few (the daily list, its changes) sum the events
    up to each moment instead, which skips sorting every event of the history."""

    def __init__(self, events: dict[str, pl.DataFrame]) -> None:
        self.events = events
        self._totals: dict[str, pl.DataFrame] = {}

    @classmethod
    def build(
        cls, cases: pl.DataFrame, contacts: pl.DataFrame, actions: pl.DataFrame | None
    ) -> ContextIndex:
        return cls(context_events(cases, contacts, actions))

    def table(self, family: str) -> pl.DataFrame:
        """The family's running totals (petitioner: petitioner_id, at, PETITIONER_COUNTS;
        township and county: their code, family, at, counts; unit: unit, at, counts)."""
        if family not in self._totals:
            self._totals[family] = running_totals(self.events[family], family)
        return self._totals[family]

    def lookup(self, keyed: pl.DataFrame, family: str) -> pl.DataFrame:
        """``family_lookup`` of ``keyed`` (as made by ``keyed_pairs``): KEYS, then the
        family's prefixed counts, in any row order."""
        moments = keyed["as_of"].unique()
        if moments.len() > FEW_MOMENTS:
            return family_lookup(keyed, self.table(family), family)
        if moments.len() == 0:  # no pairs: the columns, no rows
            return _sums_at(self.events[family].clear(), keyed, family)
        parts = [
            _sums_at(self.events[family], keyed.filter(pl.col("as_of") == moment), family)
            for moment in moments.to_list()
        ]
        return pl.concat(parts, how="vertical")


def _sums_at(events: pl.DataFrame, keyed: pl.DataFrame, family: str) -> pl.DataFrame:
    """A family's lookups for pairs of one as-of moment: each count summed over the key's
    events up to each read's moment, as the running total at that moment holds it."""
    by = FAMILY_KEYS[family]
    if keyed.height * SMALL_ASK < events.height:  # a few cases: only their keys' events
        events = events.join(keyed.select(by).unique(), on=by, how="semi")
    found = keyed.select(KEYS)
    for moment, counts, prefix in LOOKUPS[family]:
        until = keyed[moment].max()  # the pairs' one moment (None: no pairs, no events)
        chosen = events.lazy() if until is None else events.lazy().filter(pl.col("at") <= until)
        sums = chosen.group_by(by).agg(pl.col(c).sum().alias(f"{prefix}_{c}") for c in counts)
        read = keyed.lazy().select(*KEYS, *by).join(sums, on=by, how="left", maintain_order="left")
        part = read.select(*KEYS, *(pl.col(f"{prefix}_{c}").fill_null(0) for c in counts))
        found = found.join(part.collect(), on=KEYS, how="left", maintain_order="left")
    return found


def _at(
    table: pl.DataFrame,
    pairs: pl.DataFrame,
    by: list[str],
    moment: str,
    counts: list[str],
    prefix: str,
) -> pl.DataFrame:
    """Running totals of ``counts`` at ``moment`` for each row of ``pairs`` (0 before any event)."""
    columns = list(dict.fromkeys([*KEYS, *by, moment]))
    found = (
        pairs.select(columns)
        .sort(moment)
        .join_asof(
            table.select(*by, pl.col("at").alias("_at"), *counts).set_sorted("_at"),
            left_on=moment,
            right_on="_at",
            by=by,
            strategy="backward",
            check_sortedness=False,
        )
    )
    return found.select(*KEYS, *(pl.col(c).fill_null(0).alias(f"{prefix}_{c}") for c in counts))


def _county_surge() -> list[pl.Expr]:
    """Other cases' contacts of the same county and category family this week, and how
    that compares with the 83 days before (per week, +1 on both sides)."""
    this_week = (
        pl.col("county_now_contacts") - pl.col("county_week_contacts") - pl.col("contacts_7d")
    ).clip(lower_bound=0)
    before = (
        pl.col("county_week_contacts")
        - pl.col("county_quarter_contacts")
        - (pl.col("contacts_90d") - pl.col("contacts_7d"))
    ).clip(lower_bound=0)
    return [
        this_week.alias("county_family_contacts_7d"),
        ((this_week + 1.0) / (before * (7.0 / PRIOR_DAYS) + 1.0)).alias(
            "county_family_contact_surge"
        ),
    ]


def keyed_pairs(pairs: pl.DataFrame) -> pl.DataFrame:
    """``pairs`` (case_id, as_of, petitioner_id, township_code, county_code, category,
    responsible_unit) with the keys and moments that the lookups read."""
    return pairs.with_columns(
        family_of(pl.col("category")).alias("family"),
        (pl.col("as_of") - WINDOW).alias("window_start"),
        (pl.col("as_of") - RECENT).alias("recent_start"),
        (pl.col("as_of") - WEEK).alias("week_start"),
        pl.col("responsible_unit").alias("unit"),
    )


def family_lookup(keyed: pl.DataFrame, totals: pl.DataFrame, family: str) -> pl.DataFrame:
    """The reads of one family for each row of ``keyed``: KEYS, then its prefixed counts.
    Exact for any subset of rows that holds, with every row of a key, all of its totals."""
    found = keyed.select(KEYS)
    for moment, counts, prefix in LOOKUPS[family]:
        part = _at(totals, keyed, FAMILY_KEYS[family], moment, counts, prefix)
        found = found.join(part, on=KEYS, how="left", maintain_order="left")
    return found


def context_features(pairs: pl.DataFrame, own: pl.DataFrame, index: ContextIndex) -> pl.DataFrame:
    """Petitioner and context features for (case_id, as_of) pairs (columns as in
    ``keyed_pairs``); ``own`` holds the case's own features named in ``OWN``, subtracted
    so that only others count."""
    keyed = keyed_pairs(pairs)
    parts = [index.lookup(keyed, family) for family in FAMILIES]
    return combine_context(pairs.select(KEYS), own, parts)


def combine_context(
    pairs: pl.DataFrame, own: pl.DataFrame, parts: list[pl.DataFrame]
) -> pl.DataFrame:
    """The context features from the case's own counts and the looked-up totals (row by
    row: any batch of rows gives the same values)."""
    joined = (
        pairs.select(KEYS)
        .join(own, on=KEYS, how="left", maintain_order="left")
        .with_columns(pl.all().exclude(KEYS).fill_null(0))
    )
    for part in parts:
        joined = joined.join(part, on=KEYS, how="left", maintain_order="left")
    own_recent_groups = pl.col("group_contacts_30d")
    return joined.select(
        *KEYS,
        (pl.col("mine_cases") - 1).clip(lower_bound=0).alias("petitioner_other_cases"),
        (pl.col("mine_high") - pl.col("contacts_above_county")).alias(
            "petitioner_other_high_contacts"
        ),
        (pl.col("mine_groups") - pl.col("group_contacts")).alias("petitioner_other_group_contacts"),
        (pl.col("mine_contacts") - pl.col("mine_then_contacts") - pl.col("contacts_90d")).alias(
            "petitioner_other_contacts_90d"
        ),
        (pl.col("mine_unsatisfied") - pl.col("unsatisfied_ratings")).alias(
            "petitioner_other_unsatisfied"
        ),
        # Other matters registered and not settled: a closure settles one, a reopening
        # unsettles it again; the case's own closure is taken out.
        ((pl.col("mine_cases") - 1) - (pl.col("mine_settled") - pl.col("closed")))
        .clip(lower_bound=0)
        .alias("petitioner_other_open_cases"),
        # Clipped at 0: a case without a township has no neighbours to count.
        (pl.col("town_now_groups") - pl.col("town_then_groups") - own_recent_groups)
        .clip(lower_bound=0)
        .alias("township_family_groups_30d"),
        (pl.col("county_now_groups") - pl.col("county_then_groups") - own_recent_groups)
        .clip(lower_bound=0)
        .alias("county_family_groups_30d"),
        *_county_surge(),
        pl.when(pl.col("unit_answers") > 0)
        .then(pl.col("unit_late") / pl.col("unit_answers"))
        .alias("unit_late_answer_share"),
        (pl.col("unit_transfers") / pl.col("unit_owned").clip(lower_bound=1)).alias(
            "unit_transfers_per_case"
        ),
    )
