"""The online path's view of a case's surroundings: the context tables (petitioner,
township, county, unit) as arrays for binary search, and the calendar, for one case.

Mirrors ``context.py`` and ``sensitive.py`` as ``online.py`` mirrors ``events.py``; the
same parity test holds them to the batch path.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from earlywarn.contract.spec import CATEGORIES, CATEGORY_FAMILY
from earlywarn.features.build import Sources
from earlywarn.features.context import (
    PETITIONER_COUNTS,
    PRIOR_DAYS,
    RECENT,
    WEEK,
    WINDOW,
    ContextIndex,
)

if TYPE_CHECKING:
    from earlywarn.features.online import CaseRows

_US_PER_SECOND = 1_000_000
_CATEGORY_INDEX = {c: i for i, c in enumerate(CATEGORIES)}


@dataclass
class _Running:
    """One running-totals table, sorted by key then time, as arrays for binary search."""

    keys: np.ndarray
    at: np.ndarray
    counts: dict[str, np.ndarray]

    @classmethod
    def of(cls, table: pl.DataFrame, by: list[str], counts: list[str]) -> _Running:
        keyed = table.with_columns(pl.concat_str(by, separator="|").alias("_key")).sort(
            "_key", "at", maintain_order=True
        )
        return cls(
            keys=keyed["_key"].to_numpy().astype(str),
            at=keyed["at"].cast(pl.Datetime("us")).to_numpy().astype(np.int64),
            counts={c: keyed[c].to_numpy() for c in counts},
        )

    def at_time(self, key: str | None, moment: int) -> dict[str, int]:
        """Totals of the last row of ``key`` at or before ``moment`` (0 when none)."""
        if key is None:
            return dict.fromkeys(self.counts, 0)
        lo, hi = self.keys.searchsorted(key, "left"), self.keys.searchsorted(key, "right")
        position = lo + self.at[lo:hi].searchsorted(moment, "right") - 1
        if position < lo:
            return dict.fromkeys(self.counts, 0)
        return {c: int(values[position]) for c, values in self.counts.items()}


@dataclass
class OnlineSources:
    """What the service keeps between requests: context tables as arrays, the calendar."""

    petitioner: _Running
    township: _Running
    county: _Running
    unit: _Running
    sources: Sources

    @classmethod
    def of(cls, sources: Sources) -> OnlineSources:
        index: ContextIndex = sources.context
        return cls(
            petitioner=_Running.of(index.table("petitioner"), ["petitioner_id"], PETITIONER_COUNTS),
            township=_Running.of(index.table("township"), ["township_code", "family"], ["groups"]),
            county=_Running.of(
                index.table("county"), ["county_code", "family"], ["groups", "contacts"]
            ),
            unit=_Running.of(
                index.table("unit"), ["unit"], ["answers", "late", "transfers", "owned"]
            ),
            sources=sources,
        )


def context_values(
    rows: CaseRows, now: int, own: dict[str, Any], lookup: OnlineSources
) -> dict[str, Any]:
    family = CATEGORY_FAMILY.get(rows.category, "other")
    start = now - int(WINDOW.total_seconds()) * _US_PER_SECOND
    mine = lookup.petitioner.at_time(rows.petitioner_id, now)
    recent_start = now - int(RECENT.total_seconds()) * _US_PER_SECOND
    mine_then = lookup.petitioner.at_time(rows.petitioner_id, recent_start)
    town = None if rows.township_code is None else f"{rows.township_code}|{family}"
    county = f"{rows.county_code}|{family}"
    unit = lookup.unit.at_time(rows.responsible_unit, now)
    recent = own["group_contacts_30d"]
    return {
        "petitioner_other_cases": max(mine["cases"] - 1, 0),
        "petitioner_other_high_contacts": mine["high"] - own["contacts_above_county"],
        "petitioner_other_group_contacts": mine["groups"] - own["group_contacts"],
        "petitioner_other_contacts_90d": mine["contacts"]
        - mine_then["contacts"]
        - own["contacts_90d"],
        "petitioner_other_unsatisfied": mine["unsatisfied"] - (own["unsatisfied_ratings"] or 0),
        "petitioner_other_open_cases": max(
            (mine["cases"] - 1) - (mine["settled"] - (own["closed"] or 0)), 0
        ),
        "township_family_groups_30d": max(
            lookup.township.at_time(town, now)["groups"]
            - lookup.township.at_time(town, start)["groups"]
            - recent,
            0,
        ),
        "county_family_groups_30d": max(
            lookup.county.at_time(county, now)["groups"]
            - lookup.county.at_time(county, start)["groups"]
            - recent,
            0,
        ),
        **_county_surge(lookup.county, county, now, own),
        "unit_late_answer_share": unit["late"] / unit["answers"] if unit["answers"] else None,
        "unit_transfers_per_case": unit["transfers"] / max(unit["owned"], 1),
    }


def _county_surge(table: _Running, key: str, now: int, own: dict[str, Any]) -> dict[str, Any]:
    """As context._county_surge, for one case."""

    def contacts_at(delta: dt.timedelta) -> int:
        return table.at_time(key, now - int(delta.total_seconds()) * _US_PER_SECOND)["contacts"]

    week, quarter = contacts_at(WEEK), contacts_at(RECENT)
    this_week = max(table.at_time(key, now)["contacts"] - week - own["contacts_7d"], 0)
    before = max(week - quarter - (own["contacts_90d"] - own["contacts_7d"]), 0)
    return {
        "county_family_contacts_7d": this_week,
        "county_family_contact_surge": (this_week + 1.0) / (before * (7.0 / PRIOR_DAYS) + 1.0),
    }


def calendar_values(rows: CaseRows, as_of: dt.datetime, lookup: OnlineSources) -> dict[str, Any]:
    index = lookup.sources.calendar
    day = (as_of.date() - index.first_day).days
    if not 0 <= day < index.national.size:
        raise ValueError("as-of moment outside the calendar index: build it for these dates")
    category = _CATEGORY_INDEX[rows.category]
    local = False
    if rows.county_code in index.counties:
        local = bool(index.local[index.counties.index(rows.county_code), day, category])
    next_zh, next_en = index.next_period_names(day, category)
    return {
        "in_sensitive_period": int(index.national[day]),
        "days_to_sensitive_period": int(index.national_next[day]),
        "in_category_period": int(index.category[day, category]),
        "days_to_category_period": int(index.category_next[day, category]),
        "in_local_event": int(local),
        "as_of_month": as_of.month,
        "as_of_weekday": as_of.weekday(),
        "next_period_zh": next_zh,
        "next_period_en": next_en,
    }
