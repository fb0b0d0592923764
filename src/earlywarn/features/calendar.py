"""The calendar of sensitive periods (敏感节点) and Chinese public holidays.

The default periods are rules in ``data/calendar/sensitive_periods.yaml``,
evaluated for any year: fixed dates, dates relative to a lunar date (computed by
the ``holidays`` package), and periods held every few years. A dataset's own
``calendar.yaml`` adds local events with explicit dates (elections, visits, new
policies) and may restrict them to counties.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import holidays
import numpy as np
import yaml

# The lunisolar calendar behind holidays.China; its public holiday classes do not
# expose the Double Ninth, so the one conversion class is used directly.
from holidays.calendars.chinese import _ChineseLunisolar

from earlywarn.contract.calendar_file import CalendarError, SensitivePeriod, dataset_periods
from earlywarn.contract.spec import CATEGORIES
from earlywarn.resources import data_dir

DEFAULT_CALENDAR = "calendar/sensitive_periods.yaml"


@cache
def _lunisolar() -> _ChineseLunisolar:
    return _ChineseLunisolar()


def lunar_anchor(anchor: str, year: int) -> dt.date:
    """The Gregorian date of a lunar anchor in ``year``."""
    calendar = _lunisolar()
    if anchor == "spring_festival":
        day, _ = calendar.lunar_new_year_date(year)
    elif anchor == "double_ninth":
        day, _ = calendar.double_ninth_date(year)
    else:
        raise CalendarError(f"unknown lunar anchor {anchor!r}")
    if day is None:
        raise CalendarError(f"no {anchor} date known for {year}")
    return day


def public_holidays(years: Iterable[int]) -> dict[dt.date, str]:
    """Chinese statutory holidays (with observed days) for the given years."""
    return dict(holidays.country_holidays("CN", years=list(years)).items())


def _rule_occurrences(rule: dict[str, Any], year: int) -> tuple[dt.date, dt.date] | None:
    every = rule.get("every")
    if every and (year - int(every["since"])) % int(every["every"]) != 0:
        return None
    if "fixed" in rule:
        (start_month, start_day), (end_month, end_day) = (
            rule["fixed"]["start"],
            rule["fixed"]["end"],
        )
        return dt.date(year, start_month, start_day), dt.date(year, end_month, end_day)
    lunar = rule["lunar"]
    anchor = lunar_anchor(lunar["anchor"], year)
    return anchor + dt.timedelta(days=lunar["from"]), anchor + dt.timedelta(days=lunar["to"])


@cache
def _default_rules() -> tuple[dict[str, Any], ...]:
    content = yaml.safe_load((data_dir() / DEFAULT_CALENDAR).read_text(encoding="utf-8"))
    return tuple(content["periods"])


def default_periods(years: Iterable[int]) -> list[SensitivePeriod]:
    """Every default period that occurs in ``years``."""
    periods = []
    for year in sorted(set(years)):
        for rule in _default_rules():
            dates = _rule_occurrences(rule, year)
            if dates is None:
                continue
            categories = rule.get("categories")
            periods.append(
                SensitivePeriod(
                    key=rule["key"],
                    name_zh=rule["name_zh"],
                    name_en=rule["name_en"],
                    start=dates[0],
                    end=dates[1],
                    categories=frozenset(categories) if categories else None,
                )
            )
    return periods


@dataclass(frozen=True)
class Calendar:
    """Sensitive periods over a span of years, defaults merged with local events."""

    periods: tuple[SensitivePeriod, ...]

    @classmethod
    def build(
        cls, years: Iterable[int], dataset_calendar: dict[str, Any] | None = None
    ) -> Calendar:
        local = dataset_periods(dataset_calendar)
        # A local period with a default's key replaces that default in the same year.
        replaced = {(p.key, p.start.year) for p in local}
        defaults = [p for p in default_periods(years) if (p.key, p.start.year) not in replaced]
        return cls(tuple(sorted([*defaults, *local], key=lambda p: (p.start, p.key))))

    def day_category_matrix(
        self, first_day: dt.date, n_days: int, categories: tuple[str, ...] = CATEGORIES
    ) -> np.ndarray:
        """``[day, category]`` true inside a period that concerns the category anywhere.

        County-restricted periods are left out: see ``county_day_category_matrix``.
        """
        matrix = np.zeros((n_days, len(categories)), dtype=bool)
        for period in self.periods:
            if period.counties is None:
                self._mark(matrix, period, first_day, categories)
        return matrix

    def day_category_period(
        self, first_day: dt.date, n_days: int, categories: tuple[str, ...] = CATEGORIES
    ) -> np.ndarray:
        """``[day, category]`` the position in ``periods`` of the period (not restricted to
        counties) that covers the day for the category, the earliest-starting one; -1 none."""
        which = np.full((n_days, len(categories)), -1, dtype=np.int32)
        for position in range(len(self.periods) - 1, -1, -1):  # earlier periods win
            period = self.periods[position]
            if period.counties is not None:
                continue
            start = max((period.start - first_day).days, 0)
            end = min((period.end - first_day).days + 1, n_days)
            if start < end:
                columns = [i for i, c in enumerate(categories) if period.concerns(c)]
                which[start:end, columns] = position
        return which

    def county_day_category_matrix(
        self,
        first_day: dt.date,
        n_days: int,
        counties: tuple[str, ...],
        categories: tuple[str, ...] = CATEGORIES,
    ) -> np.ndarray:
        """``[county, day, category]`` true inside a period restricted to that county."""
        matrix = np.zeros((len(counties), n_days, len(categories)), dtype=bool)
        for period in self.periods:
            if period.counties is None:
                continue
            for index, county in enumerate(counties):
                if county in period.counties:
                    self._mark(matrix[index], period, first_day, categories)
        return matrix

    @staticmethod
    def _mark(
        matrix: np.ndarray, period: SensitivePeriod, first_day: dt.date, categories: tuple[str, ...]
    ) -> None:
        start = max((period.start - first_day).days, 0)
        end = min((period.end - first_day).days + 1, matrix.shape[0])
        if start >= end:
            return
        columns = [i for i, c in enumerate(categories) if period.concerns(c)]
        matrix[start:end, columns] = True
