"""Features that look beyond the case: its petitioner, similar groups nearby, its unit.

Each is read from a cumulative event table (running totals per key over time)
with an as-of join, so that any number of as-of moments costs one join and
nothing after the moment can be seen. The online path reads the same tables,
sliced to the keys of the posted case.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from earlywarn.contract.rules import ANSWER_CLOCK_DAYS, GROUP_THRESHOLD
from earlywarn.contract.spec import CATEGORY_FAMILY
from earlywarn.features.events import KEYS

WINDOW = dt.timedelta(days=30)
RECENT = dt.timedelta(days=90)  # the petitioner's recent contacts on other matters
WEEK = dt.timedelta(days=7)  # similar matters' contacts in the county: this week against
PRIOR_DAYS = 83.0  # the 83 days before it (a local event no calendar lists shows as a surge)
# What the petitioner's running totals count (one row per event), and the case's own
# features subtracted from them so that only the other matters count.
PETITIONER_COUNTS = ["cases", "high", "groups", "contacts", "unsatisfied", "settled"]
OWN = (
    "contacts_above_county", "group_contacts", "group_contacts_30d", "contacts_7d",
    "contacts_90d", "unsatisfied_ratings", "closed",
)  # fmt: skip
_ANSWER_CLOCK = dt.timedelta(days=ANSWER_CLOCK_DAYS)
_HIGH = ["city", "province", "national"]


def family_of(category: pl.Expr) -> pl.Expr:
    return category.cast(pl.String).replace_strict(CATEGORY_FAMILY, default="other")


def _running(events: pl.DataFrame, key: list[str], counts: list[str]) -> pl.DataFrame:
    """Running totals of ``counts`` per ``key`` over ``at``, sorted by time for the as-of joins."""
    return (
        events.sort([*key, "at"])
        .with_columns(pl.col(c).cum_sum().over(key) for c in counts)
        .sort("at", maintain_order=True)
    )


@dataclass
class ContextIndex:
    """Running totals per petitioner, per township and county family, per unit."""

    petitioner: pl.DataFrame  # petitioner_id, at, PETITIONER_COUNTS
    township: pl.DataFrame  # township_code, family, at, groups
    county: pl.DataFrame  # county_code, family, at, groups, contacts
    unit: pl.DataFrame  # unit, at, answers, late, transfers, owned

    @classmethod
    def build(
        cls, cases: pl.DataFrame, contacts: pl.DataFrame, actions: pl.DataFrame | None
    ) -> ContextIndex:
        owners = cases.select(
            "case_id", "petitioner_id", "township_code", "county_code", "category"
        )
        marked = contacts.join(owners, on="case_id").select(
            "petitioner_id",
            "township_code",
            "county_code",
            family_of(pl.col("category")).alias("family"),
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
        grouped = marked.filter(pl.col("groups") > 0)
        return cls(
            petitioner=_running(petitioner, ["petitioner_id"], PETITIONER_COUNTS),
            township=_running(
                grouped.select("township_code", "family", "at", "groups"),
                ["township_code", "family"],
                ["groups"],
            ),
            county=_running(
                marked.select(
                    "county_code", "family", "at", "groups", pl.lit(1, pl.Int64).alias("contacts")
                ),
                ["county_code", "family"],
                ["groups", "contacts"],
            ),
            unit=_running(
                _unit_events(cases, actions), ["unit"], ["answers", "late", "transfers", "owned"]
            ),
        )

    def slice(
        self, petitioners: list[str], townships: list[str], counties: list[str], units: list[str]
    ) -> ContextIndex:
        """Only the rows of these keys: the online path's small view."""
        return ContextIndex(
            petitioner=self.petitioner.filter(pl.col("petitioner_id").is_in(petitioners)),
            township=self.township.filter(pl.col("township_code").is_in(townships)),
            county=self.county.filter(pl.col("county_code").is_in(counties)),
            unit=self.unit.filter(pl.col("unit").is_in(units)),
        )


def _petitioner_steps(cases: pl.DataFrame, actions: pl.DataFrame | None) -> pl.DataFrame:
    """Unsatisfied ratings, and closures (+1) and reopenings (-1) as ``settled``, per
    petitioner: the other matters' outcomes and how many of them are still open."""
    if actions is None:
        return pl.DataFrame(
            schema={"petitioner_id": pl.String, "at": pl.Datetime("us"),
                    "unsatisfied": pl.Int64, "settled": pl.Int64}
        )  # fmt: skip
    kind, outcome = pl.col("action_type").cast(pl.String), pl.col("outcome").cast(pl.String)
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
    kind = pl.col("action_type").cast(pl.String)
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


def context_features(pairs: pl.DataFrame, own: pl.DataFrame, index: ContextIndex) -> pl.DataFrame:
    """Petitioner and context features for (case_id, as_of) pairs.

    ``pairs`` carries case_id, as_of, petitioner_id, township_code, county_code,
    category, responsible_unit; ``own`` the case's own features named in ``OWN``,
    subtracted so that only others count.
    """
    keyed = pairs.with_columns(
        family_of(pl.col("category")).alias("family"),
        (pl.col("as_of") - WINDOW).alias("window_start"),
        (pl.col("as_of") - RECENT).alias("recent_start"),
        (pl.col("as_of") - WEEK).alias("week_start"),
        pl.col("responsible_unit").alias("unit"),
    )
    town, county = ["township_code", "family"], ["county_code", "family"]
    parts = [
        _at(index.petitioner, keyed, ["petitioner_id"], "as_of", PETITIONER_COUNTS, "mine"),
        _at(index.petitioner, keyed, ["petitioner_id"], "recent_start", ["contacts"], "mine_then"),
        _at(index.township, keyed, town, "as_of", ["groups"], "town_now"),
        _at(index.township, keyed, town, "window_start", ["groups"], "town_then"),
        _at(index.county, keyed, county, "as_of", ["groups", "contacts"], "county_now"),
        _at(index.county, keyed, county, "window_start", ["groups"], "county_then"),
        _at(index.county, keyed, county, "week_start", ["contacts"], "county_week"),
        _at(index.county, keyed, county, "recent_start", ["contacts"], "county_quarter"),
        _at(
            index.unit, keyed, ["unit"], "as_of", ["answers", "late", "transfers", "owned"], "unit"
        ),
    ]
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
