"""The value study end to end on a small world, its arithmetic, and its morning tables."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.models.steps import STEPS
from earlywarn.simulator.run import History, SimulationConfig
from earlywarn.value.report import interval, summarise, write_report
from earlywarn.value.study import NO_LIST, Row, StudyConfig, run_seed
from earlywarn.value.tables import MorningTables


def _row(seed: int, policy: str, escalations: int, collective: int, actions: int) -> Row:
    return Row(seed, policy, 1.0, 0.02, escalations, collective, actions, actions, 0.0)


def test_prevented_is_the_no_list_count_minus_the_policys_on_the_same_world() -> None:
    rows = [
        _row(1, NO_LIST, 100, 50, 0),
        _row(1, "earlywarn", 90, 40, 50),
        _row(1, "oracle", 80, 30, 50),
        _row(2, NO_LIST, 120, 60, 0),
        _row(2, "earlywarn", 110, 55, 30),
        _row(2, "oracle", 100, 45, 30),
    ]
    by_policy = {entry["policy"]: entry for entry in summarise(rows)}
    mine = by_policy["earlywarn"]
    assert mine["escalations_prevented"]["mean"] == 10
    assert mine["collective_prevented"]["mean"] == 7.5
    assert mine["prevented_per_100_acted_on"]["mean"] == pytest.approx((40 + 50) / 2)
    assert mine["share_of_oracle_benefit"]["mean"] == pytest.approx((20 / 40 + 15 / 35) / 2)
    assert by_policy["oracle"]["share_of_oracle_benefit"]["mean"] == 1.0


def test_earlywarn_is_compared_with_the_office_rule_world_by_world() -> None:
    """The headline comparison was worked out by hand; the study now states it."""
    from earlywarn.value.report import paired

    rows = [
        _row(1, NO_LIST, 100, 50, 0), _row(1, "earlywarn", 90, 40, 50),
        _row(1, "office rule", 95, 45, 50), _row(2, NO_LIST, 120, 60, 0),
        _row(2, "earlywarn", 110, 55, 30), _row(2, "office rule", 112, 58, 30),
        _row(3, NO_LIST, 80, 40, 0), _row(3, "earlywarn", 70, 35, 30),
        _row(3, "office rule", 76, 38, 30),
    ]  # fmt: skip
    (entry,) = paired(rows)
    more = entry["more_than_office_rule"]
    assert entry["worlds"] == 3 and more["mean"] == pytest.approx((10 + 5 + 9) / 3)
    assert more["low"] < more["mean"] < more["high"]


def test_the_interval_is_students_t_and_absent_for_one_seed() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    found = interval(values)
    half = 2.776445105 * np.std(values, ddof=1) / math.sqrt(5)
    assert found["mean"] == 3.0
    assert found["low"] == pytest.approx(3.0 - half) and found["high"] == pytest.approx(3.0 + half)
    assert math.isnan(interval([2.0])["low"])


def test_the_morning_tables_hold_what_the_whole_tables_hold() -> None:
    history = History(SimulationConfig(cases=800, start=dt.date(2024, 1, 1),
                                       end=dt.date(2024, 6, 30), seed=2))  # fmt: skip
    while history.day < 120:
        history.run_day()
    morning = MorningTables(history, seed=2)
    morning.dataset()
    for _ in range(10):  # days added one at a time
        history.run_day()
        grown = morning.dataset()
    whole = history.tables()

    def events(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
        dated = frame.with_columns(pl.col("occurred_at").dt.date())
        return dated.select("case_id", "occurred_at", *columns).cast(pl.String).sort(pl.all())

    assert events(grown.contacts, ["level", "group_size"]).equals(
        events(whole["contacts"], ["level", "group_size"])
    )
    assert grown.actions is not None
    assert events(grown.actions, ["action_type"]).equals(events(whole["actions"], ["action_type"]))
    assert grown.cases["case_id"].sort().equals(whole["cases"]["case_id"].sort())
    assert grown.contacts["contact_id"].is_unique().all()
    assert grown.contacts["occurred_at"].is_sorted()


@pytest.mark.slow
def test_a_small_study_runs_every_policy_and_writes_its_report(tmp_path: Path) -> None:
    config = StudyConfig(
        cases=4000, start=dt.date(2023, 1, 1), first_day=dt.date(2024, 7, 1), months=1,
        seeds=(3,), policies=("office rule", "random K", "earlywarn", "oracle"),
    )  # fmt: skip
    rows = run_seed(config, 3)
    assert [row.policy for row in rows] == [NO_LIST, "office rule", "random K", "earlywarn",
                                            "oracle"]  # fmt: skip
    assert rows[0].actions == 0 and all(row.actions > 0 for row in rows[1:])
    report = write_report(config, rows, tmp_path)
    text = (tmp_path / "value.json").read_text(encoding="utf-8")

    def not_json(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")  # one seed: no interval, null

    document = json.loads(text, parse_constant=not_json)
    assert len(document["runs"]) == 5 and len(document["summary"]) == 4
    written = report.read_text(encoding="utf-8")
    assert "| earlywarn |" in written and "| max(2.0%, 50) |" in written  # K, as worked
    assert "visits more than the office rule's per world (one world: no interval)" in written
    assert "in simulated worlds" in written and "not measurements of an office" in written
    assert len(document["paired_with_office_rule"]) == 1
    assert (tmp_path / "value.png").stat().st_size > 0


def test_earlywarn_acts_with_its_own_recommended_steps(tmp_path: Path) -> None:
    from earlywarn.models.capacity import Capacity
    from earlywarn.simulator.interventions import Effects
    from earlywarn.value.earlywarn_list import EarlywarnList, fit_models, morning_dataset
    from earlywarn.value.office import OfficeRun

    history = History(SimulationConfig(cases=3000, start=dt.date(2023, 1, 1),
                                       end=dt.date(2024, 2, 29), seed=5))  # fmt: skip
    while history.day < (dt.date(2024, 2, 1) - dt.date(2023, 1, 1)).days:
        history.run_day()
    dataset, as_of = morning_dataset(history)
    models = fit_models(dataset, as_of, Capacity(), None)
    office = OfficeRun(history, EarlywarnList(models), Effects(), Capacity(0.02, 20), 30, 5)
    office.run_until(history.day + 2)
    assert office.ledger, "the list was acted on"
    assert all(set(steps) <= set(STEPS) for _, _, steps, _ in office.ledger)
    treated = office.treated()
    assert treated.height == len(office.ledger)
    assert treated["acted_at"].dt.hour().unique().to_list() == [9]


def test_an_unknown_policy_is_a_clear_error() -> None:
    result = CliRunner().invoke(app, ["evaluate-policy", "--policy", "astrology"])
    assert result.exit_code == 2
    assert "unknown policies ['astrology']" in result.output


def test_a_history_too_short_to_fit_on_is_a_clear_error() -> None:
    result = CliRunner().invoke(app, ["evaluate-policy", "--start", "2024-09-01"])
    assert result.exit_code == 2
    assert "must come at least 450 days after the history's start 2024-09-01" in result.output


def test_a_study_without_earlywarn_fits_no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fitting(*_: object) -> None:
        raise AssertionError("no earlywarn policy: nothing to fit")

    monkeypatch.setattr("earlywarn.value.study.fit_models", no_fitting)
    config = StudyConfig(
        cases=1500, start=dt.date(2023, 1, 1), first_day=dt.date(2024, 4, 1), months=1,
        seeds=(2,), policies=("office rule", "oracle"),
    )  # fmt: skip
    rows = run_seed(config, 2)
    assert [row.policy for row in rows] == [NO_LIST, "office rule", "oracle"]
