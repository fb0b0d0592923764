"""A dataset's own ``calendar.yaml``: local sensitive periods (elections, visits, new policies).

The contract owns the file's structure, so that validation can judge it; the
features' calendar (``features/calendar.py``) merges these periods with the
default rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from earlywarn.contract.spec import CATEGORIES


class CalendarError(ValueError):
    """A calendar file that cannot be used; the message names the entry and field."""


@dataclass(frozen=True)
class SensitivePeriod:
    """One occurrence of a sensitive period, dates inclusive."""

    key: str
    name_zh: str
    name_en: str
    start: dt.date
    end: dt.date
    categories: frozenset[str] | None = None  # None: every category
    counties: frozenset[str] | None = None  # None: everywhere
    source: str = "default"

    def concerns(self, category: str, county: str | None = None) -> bool:
        category_ok = self.categories is None or category in self.categories
        county_ok = self.counties is None or county is None or county in self.counties
        return category_ok and county_ok


def _as_date(value: object, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as error:
        raise CalendarError(f"{where}: not a date (YYYY-MM-DD): {value!r}") from error


def dataset_periods(content: dict[str, Any] | None) -> list[SensitivePeriod]:
    """Local events from a dataset's ``calendar.yaml`` (already parsed), checked."""
    if not content:
        return []
    entries = content.get("periods")
    if not isinstance(entries, list):
        raise CalendarError("calendar.yaml: 'periods' must be a list")
    periods = []
    for index, entry in enumerate(entries, start=1):
        where = f"calendar.yaml, period {index}"
        if not isinstance(entry, dict):
            raise CalendarError(f"{where}: must be a mapping")
        for field in ("key", "start", "end"):
            if field not in entry:
                raise CalendarError(f"{where}: '{field}' is required")
        start, end = (
            _as_date(entry["start"], f"{where}, start"),
            _as_date(entry["end"], f"{where}, end"),
        )
        if end < start:
            raise CalendarError(f"{where}: end {end} is before start {start}")
        categories, counties = entry.get("categories"), entry.get("counties")
        for field, value in (("categories", categories), ("counties", counties)):
            if value is not None and not isinstance(value, list):
                raise CalendarError(f"{where}, {field}: must be a list, e.g. [{value!r}]")
        unknown = sorted(set(map(str, categories or ())) - set(CATEGORIES))
        if unknown:
            raise CalendarError(f"{where}, categories: unknown codes {unknown}")
        periods.append(
            SensitivePeriod(
                key=str(entry["key"]),
                name_zh=str(entry.get("name_zh", entry["key"])),
                name_en=str(entry.get("name_en", entry["key"])),
                start=start,
                end=end,
                categories=frozenset(map(str, categories)) if categories else None,
                counties=frozenset(str(c) for c in counties) if counties else None,
                source="dataset",
            )
        )
    return periods


def calendar_content(content: object) -> dict[str, Any]:
    """A calendar file's parsed YAML, checked: the dataset's own periods (an empty file
    has none). Raises ``CalendarError`` naming what cannot be used."""
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise CalendarError("the top level must be a mapping")
    dataset_periods(content)
    return content
