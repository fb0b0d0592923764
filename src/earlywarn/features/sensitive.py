"""Calendar features: inside a sensitive period, days to the next one, month and weekday.

The calendar is turned once into day-by-category arrays over the span needed,
so that a million (case, as-of) pairs and a single posted case read the same
arrays.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from earlywarn.contract.spec import CATEGORIES, FALLBACK_CATEGORY
from earlywarn.features.calendar import Calendar
from earlywarn.features.events import KEYS

LOOKAHEAD_DAYS = 400  # the next period of every kind falls within a year
_NO_PERIOD = 9999


def _next_period(which: np.ndarray) -> np.ndarray:
    """For each day (axis 0), the period covering the next day inside one (-1 none)."""
    result = np.full(which.shape, -1, dtype=np.int32)
    upcoming = np.full(which.shape[1:], -1, dtype=np.int32)
    for day in range(which.shape[0] - 1, -1, -1):
        upcoming = np.where(which[day] >= 0, which[day], upcoming)
        result[day] = upcoming
    return result


def _days_to_next(inside: np.ndarray) -> np.ndarray:
    """For each day (axis 0), days until the next day inside (0 when inside)."""
    days = inside.shape[0]
    result = np.full(inside.shape, _NO_PERIOD, dtype=np.int32)
    upcoming = np.full(inside.shape[1:], _NO_PERIOD, dtype=np.int64)
    for day in range(days - 1, -1, -1):
        upcoming = np.where(inside[day], day, upcoming)
        result[day] = np.where(upcoming == _NO_PERIOD, _NO_PERIOD, upcoming - day)
    return result


@dataclass
class CalendarIndex:
    first_day: dt.date
    national: np.ndarray  # [day] bool: a period concerning every category, everywhere
    national_next: np.ndarray  # [day] days to the next
    category: np.ndarray  # [day, category] bool
    category_next: np.ndarray  # [day, category]
    local: np.ndarray  # [county, day, category] bool, the dataset's county events
    counties: tuple[str, ...]
    category_next_period: np.ndarray  # [day, category] position in period_names, -1 none
    period_names: tuple[tuple[str, str], ...]  # (中文, English)

    @classmethod
    def build(
        cls, first: dt.date, last: dt.date, dataset_calendar: dict[str, Any] | None = None
    ) -> CalendarIndex:
        end = last + dt.timedelta(days=LOOKAHEAD_DAYS)
        calendar = Calendar.build(range(first.year, end.year + 1), dataset_calendar)
        n_days = (end - first).days + 1
        category = calendar.day_category_matrix(first, n_days)
        counties = tuple(sorted({c for p in calendar.periods if p.counties for c in p.counties}))
        national = np.asarray(category.all(axis=1))
        return cls(
            first_day=first,
            national=national,
            national_next=_days_to_next(national[:, None])[:, 0],
            category=category,
            category_next=_days_to_next(category),
            local=calendar.county_day_category_matrix(first, n_days, counties),
            counties=counties,
            category_next_period=_next_period(calendar.day_category_period(first, n_days)),
            period_names=tuple((p.name_zh, p.name_en) for p in calendar.periods),
        )

    def next_period_names(self, day: int, category: int) -> tuple[str | None, str | None]:
        """The names of the next period concerning the category (the current one inside)."""
        position = int(self.category_next_period[day, category])
        return self.period_names[position] if position >= 0 else (None, None)

    def sensitive_days(
        self, county: str, category: str, first: dt.date, last: dt.date
    ) -> tuple[dt.date, np.ndarray]:
        """The days from ``first`` to ``last`` (clipped to the index) that are sensitive
        for a case of this county and category: national, its category's, its county's
        events. The first day kept, and one flag per day."""
        start = max((first - self.first_day).days, 0)
        stop = max(min((last - self.first_day).days + 1, self.national.size), start)
        column = CATEGORIES.index(category if category in CATEGORIES else FALLBACK_CATEGORY)
        days = self.national[start:stop] | self.category[start:stop, column]
        if county in self.counties:
            days = days | self.local[self.counties.index(county), start:stop, column]
        return self.first_day + dt.timedelta(days=start), days

    def covers(self, first: dt.date, last: dt.date) -> bool:
        return (
            first >= self.first_day
            and (last - self.first_day).days < self.national.size - LOOKAHEAD_DAYS + 1
        )


def calendar_features(pairs: pl.DataFrame, index: CalendarIndex) -> pl.DataFrame:
    """For pairs with case_id, as_of, category and county_code: the calendar family."""
    as_of = pairs["as_of"].dt.date().to_numpy()
    day = (as_of - np.datetime64(index.first_day, "D")).astype(np.int64)
    if day.size and (day.min() < 0 or day.max() >= index.national.size):
        raise ValueError("as-of moment outside the calendar index: build it for these dates")
    category = (
        pairs["category"]
        .cast(pl.String)
        .replace_strict({c: i for i, c in enumerate(CATEGORIES)}, return_dtype=pl.Int64)
        .to_numpy()
    )
    county_position = {c: i for i, c in enumerate(index.counties)}
    county = (
        pairs["county_code"]
        .replace_strict(county_position, default=-1, return_dtype=pl.Int64)
        .to_numpy()
    )
    local = np.zeros(day.size, dtype=bool)
    known = county >= 0
    if index.counties and known.any():
        local[known] = index.local[county[known], day[known], category[known]]
    weekday = pairs["as_of"].dt.weekday().to_numpy() - 1  # polars: Monday = 1
    upcoming = pl.Series(index.category_next_period[day, category])

    def name_of(language: int) -> pl.Series:
        names = {i: name[language] for i, name in enumerate(index.period_names)}
        return upcoming.replace_strict(names, default=None, return_dtype=pl.String)

    return pairs.select(KEYS).with_columns(
        pl.Series("in_sensitive_period", index.national[day].astype(np.int8)),
        pl.Series("days_to_sensitive_period", index.national_next[day]),
        pl.Series("in_category_period", index.category[day, category].astype(np.int8)),
        pl.Series("days_to_category_period", index.category_next[day, category]),
        pl.Series("in_local_event", local.astype(np.int8)),
        pl.Series("as_of_month", pairs["as_of"].dt.month().to_numpy().astype(np.int8)),
        pl.Series("as_of_weekday", weekday.astype(np.int8)),
        name_of(0).alias("next_period_zh"),
        name_of(1).alias("next_period_en"),
    )
