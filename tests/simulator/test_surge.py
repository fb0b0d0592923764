"""A surge: one category's arrivals multiply from a day on; the history before is the same."""

from __future__ import annotations

import datetime as dt

import polars as pl

from earlywarn.simulator.run import SimulationConfig, Surge, simulate

START = dt.date(2024, 7, 1)


def test_a_surge_changes_only_what_comes_after_it() -> None:
    plain = SimulationConfig(
        cases=1500, start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31), seed=3
    )
    surged = SimulationConfig(**{**plain.__dict__, "surge": Surge("wage_arrears", START, 6.0)})
    before, after = simulate(plain).tables, simulate(surged).tables
    moment = dt.datetime.combine(START, dt.time())
    # The days and what happened on them agree; the moments inside each day, the ids
    # that follow them and the summaries' text are drawn for all rows when the tables
    # are written, so they are left aside.
    for table, column, kept in (
        ("cases", "registered_at", ["case_id", "county_code", "category", "responsible_unit"]),
        ("contacts", "occurred_at", ["case_id", "channel", "level", "group_size"]),
    ):
        earlier = [
            t[table]
            .filter(pl.col(column) < moment)
            .select(*kept, pl.col(column).dt.date())
            .sort(pl.all())
            for t in (before, after)
        ]
        assert earlier[0].equals(earlier[1]), table

    def share(tables: dict[str, pl.DataFrame]) -> float:
        later = tables["cases"].filter(pl.col("registered_at") >= moment)
        return later.filter(pl.col("category") == "wage_arrears").height / later.height

    assert share(after) > 2.5 * share(before)
    later = [t["cases"].filter(pl.col("registered_at") >= moment) for t in (before, after)]
    others = [c.filter(pl.col("category") != "wage_arrears").height for c in later]
    assert abs(others[1] - others[0]) < 0.15 * others[0]  # the others arrive as before
