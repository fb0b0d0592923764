"""The calendar of sensitive periods: rules valid for any year, local events merged over them."""

from __future__ import annotations

import datetime as dt

import pytest

from earlywarn.contract import ContractError, load_dataset
from earlywarn.contract.calendar_file import CalendarError, dataset_periods
from earlywarn.features.calendar import Calendar, lunar_anchor, public_holidays
from tests.conftest import DatasetWriter


def _period(calendar: Calendar, key: str, year: int) -> tuple[dt.date, dt.date]:
    found = [p for p in calendar.periods if p.key == key and p.start.year == year]
    assert len(found) == 1, found
    return found[0].start, found[0].end


def test_lunar_dates_far_beyond_this_year() -> None:
    assert lunar_anchor("spring_festival", 2026) == dt.date(2026, 2, 17)
    assert lunar_anchor("spring_festival", 2045) == dt.date(2045, 2, 17)
    assert lunar_anchor("double_ninth", 2025) == dt.date(2025, 10, 29)
    calendar = Calendar.build([2045])
    assert _period(calendar, "pre_spring_festival", 2045) == (
        dt.date(2045, 1, 20),
        dt.date(2045, 2, 16),
    )


def test_public_holidays_for_any_year() -> None:
    days = public_holidays([2031])
    assert dt.date(2031, 10, 1) in days
    assert any(day.month in (1, 2) for day in days)  # the Spring Festival, computed


def test_party_congress_only_every_five_years() -> None:
    calendar = Calendar.build(range(2025, 2033))
    years = sorted(p.start.year for p in calendar.periods if p.key == "party_congress")
    assert years == [2027, 2032]


def test_category_specific_periods() -> None:
    calendar = Calendar.build([2025])
    matrix = calendar.day_category_matrix(
        dt.date(2025, 8, 1), 1, ("veterans_resettlement", "land_dispute")
    )
    assert matrix.tolist() == [[True, False]]  # Army Day concerns veterans only
    matrix = calendar.day_category_matrix(
        dt.date(2025, 3, 5), 1, ("veterans_resettlement", "land_dispute")
    )
    assert matrix.tolist() == [[True, True]]  # the congress sessions concern everyone


def test_local_events_are_merged_and_restricted_to_their_counties() -> None:
    local = {
        "periods": [
            {"key": "election", "start": "2025-05-01", "end": "2025-05-10", "counties": ["330702"]},
            {"key": "two_sessions", "start": "2025-03-04", "end": "2025-03-11"},
        ]
    }
    calendar = Calendar.build([2025], local)
    assert _period(calendar, "two_sessions", 2025) == (dt.date(2025, 3, 4), dt.date(2025, 3, 11))
    by_county = calendar.county_day_category_matrix(
        dt.date(2025, 5, 2), 1, ("330702", "330703"), ("other",)
    )
    assert by_county[:, 0, 0].tolist() == [True, False]
    assert not calendar.day_category_matrix(dt.date(2025, 5, 2), 1, ("other",)).any()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"periods": [{"key": "x", "start": "2025-05-01"}]}, "period 1: 'end' is required"),
        ({"periods": [{"key": "x", "start": "2025-05-09", "end": "2025-05-01"}]}, "before start"),
        ({"periods": [{"key": "x", "start": "soon", "end": "2025-05-01"}]}, "period 1, start"),
        (
            {
                "periods": [
                    {"key": "x", "start": "2025-05-01", "end": "2025-05-02", "categories": ["ufo"]}
                ]
            },
            "ufo",
        ),
        ({"periods": "all of them"}, "must be a list"),
    ],
)
def test_bad_local_calendar_is_named(content: dict[str, object], message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        dataset_periods(content)  # type: ignore[arg-type]


def test_loader_rejects_a_bad_calendar_file(write_dataset: DatasetWriter) -> None:
    path = write_dataset()
    (path / "calendar.yaml").write_text(
        "periods:\n  - key: x\n    start: 2025-05-01\n", encoding="utf-8"
    )
    with pytest.raises(ContractError) as raised:
        load_dataset(path)
    (line,) = raised.value.report.error_lines()
    assert line.startswith("calendar.yaml") and "'end' is required" in line


def test_loader_names_the_yaml_line(write_dataset: DatasetWriter) -> None:
    path = write_dataset()
    (path / "calendar.yaml").write_text("periods:\n  - key: [unclosed\n", encoding="utf-8")
    with pytest.raises(ContractError) as raised:
        load_dataset(path)
    assert raised.value.report.errors["line"].to_list() == [3]


def test_sensitive_days_of_a_case_join_national_category_and_local() -> None:
    from earlywarn.features.sensitive import CalendarIndex

    local = {
        "periods": [
            {"key": "elections", "name_zh": "换届选举", "name_en": "Elections",
             "start": "2025-06-15", "end": "2025-06-20",
             "categories": ["village_affairs"], "counties": ["330212"]},
        ]
    }  # fmt: skip
    index = CalendarIndex.build(dt.date(2025, 1, 1), dt.date(2025, 12, 31), local)
    first, last = dt.date(2025, 6, 1), dt.date(2025, 6, 30)

    def flagged(county: str, category: str) -> set[dt.date]:
        start, days = index.sensitive_days(county, category, first, last)
        return {start + dt.timedelta(days=int(i)) for i in days.nonzero()[0]}

    elections = {dt.date(2025, 6, d) for d in range(15, 21)}
    assert elections <= flagged("330212", "village_affairs")
    assert not elections & flagged("330211", "village_affairs")  # another county
    assert not elections & flagged("330212", "wage_arrears")  # another category
    assert flagged("330212", "no_such_category") == flagged("330212", "other")
    offset = (first - index.first_day).days
    national = {
        first + dt.timedelta(days=int(i)) for i in index.national[offset : offset + 30].nonzero()[0]
    }
    for county, category in (("330211", "wage_arrears"), ("330212", "village_affairs")):
        assert national <= flagged(county, category)  # national periods concern every case
