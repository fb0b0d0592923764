"""Interventions act on one case's hidden state; common random numbers keep the rest."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import fields, replace

import numpy as np
import polars as pl
import pytest

from earlywarn.models.capacity import Capacity
from earlywarn.simulator.interventions import (
    EFFECT_OF_STEP,
    Effects,
    intervene,
    recorded,
    usual_steps,
)
from earlywarn.simulator.office import ACTION
from earlywarn.simulator.petitioners import daily_hazard
from earlywarn.simulator.run import History, SimulationConfig, simulate
from earlywarn.simulator.state import Cases
from earlywarn.value.office import OfficeRun
from earlywarn.value.policies import NoList, OfficeRule

FIRST = dt.date(2024, 7, 1)
CONFIG = SimulationConfig(
    cases=1500, start=dt.date(2024, 1, 1), end=dt.date(2024, 9, 30), seed=4, common_days_from=FIRST
)
EVERY_STEP = sorted(EFFECT_OF_STEP)


def _history_at_first_day() -> History:
    history = History(CONFIG)
    while history.day < (FIRST - CONFIG.start).days:
        history.run_day()
    return history


@pytest.fixture(scope="module")
def at_first_day() -> History:
    """Shared by the tests: each one that acts on it acts on a copy."""
    return _history_at_first_day()


def _changed_rows(before: Cases, after: Cases) -> set[int]:
    changed: set[int] = set()
    for field in fields(Cases):
        old, new = getattr(before, field.name), getattr(after, field.name)
        changed |= set(np.flatnonzero(old != new).tolist())
    return changed


def test_an_intervention_changes_only_the_case_it_is_applied_to(at_first_day: History) -> None:
    live = copy.deepcopy(at_first_day.live)
    assert live is not None
    before = copy.deepcopy(live)
    row = int(np.flatnonzero(live.next_step_day < 10**6)[0])  # a step still to come
    effects = Effects(failure=0.0)
    took = intervene(live, np.array([row]), [EVERY_STEP], at_first_day.day, effects,
                     np.random.default_rng(0))  # fmt: skip
    assert took.tolist() == [True]
    assert _changed_rows(before, live) == {row}
    assert live.calm[row] > 0 and live.group_calm[row] > 0 and live.period_calm[row] > 0


def test_effects_at_scale_zero_change_nothing(at_first_day: History) -> None:
    live = copy.deepcopy(at_first_day.live)
    assert live is not None
    before = copy.deepcopy(live)
    rows = np.arange(0, len(live), 7)
    steps = [EVERY_STEP] * rows.size
    intervene(live, rows, steps, at_first_day.day, Effects(scale=0.0), np.random.default_rng(1))
    assert _changed_rows(before, live) == set()


def test_a_calmed_case_is_less_likely_to_escalate_or_come_as_a_group(
    at_first_day: History,
) -> None:
    history = copy.deepcopy(at_first_day)
    live = history.live
    assert live is not None
    context = history.context()
    escalation, group = daily_hazard(live, context, history.world)
    riskiest = int(np.argmax(escalation + group))
    intervene(live, np.array([riskiest]), [["face_to_face", "dialogue"]], history.day,
              Effects(failure=0.0, solve=0.0), np.random.default_rng(2))  # fmt: skip
    calmer_escalation, calmer_group = daily_hazard(live, context, history.world)
    assert calmer_escalation[riskiest] < escalation[riskiest]
    assert calmer_group[riskiest] <= group[riskiest]
    others = np.arange(len(live)) != riskiest
    assert np.array_equal(calmer_escalation[others], escalation[others])


def test_the_office_takes_the_steps_the_state_calls_for(at_first_day: History) -> None:
    live = at_first_day.live
    assert live is not None
    rows = np.arange(len(live))
    steps = usual_steps(live, rows, at_first_day.day, at_first_day.timeline)
    assert all(chosen and set(chosen) <= set(EFFECT_OF_STEP) for chosen in steps)
    overdue = (live.stage == 1) & (live.answer_due_day < at_first_day.day)
    assert all("chase_answer" in steps[row] for row in np.flatnonzero(overdue))


def _run(history: History, policy: object, effects: Effects) -> OfficeRun:
    office = OfficeRun(copy.deepcopy(history), policy, effects, Capacity(0.05, 10), 30, 4)  # type: ignore[arg-type]
    office.run_until((CONFIG.end - CONFIG.start).days)
    return office


def test_the_no_list_policy_reproduces_the_plain_simulation(at_first_day: History) -> None:
    office = _run(at_first_day, NoList(), Effects())
    plain = simulate(CONFIG).tables
    for name, frame in office.history.tables().items():
        assert frame.equals(plain[name]), name


def test_with_no_effect_a_policy_prevents_nothing(at_first_day: History) -> None:
    first, last = (FIRST - CONFIG.start).days, (CONFIG.end - CONFIG.start).days
    nothing = _run(at_first_day, NoList(), Effects()).outcomes(first, last)
    idle = _run(at_first_day, OfficeRule(), Effects(scale=0.0)).outcomes(first, last)
    acting = _run(at_first_day, OfficeRule(), Effects()).outcomes(first, last)
    assert idle.actions > 0
    assert (idle.escalations, idle.collective) == (nothing.escalations, nothing.collective)
    assert (acting.escalations, acting.collective) != (nothing.escalations, nothing.collective)


def test_common_days_leave_the_history_before_them_as_it_was() -> None:
    plain = simulate(replace(CONFIG, common_days_from=None)).tables["contacts"]
    common = simulate(CONFIG).tables["contacts"]
    moment = dt.datetime.combine(FIRST, dt.time())

    def days_before(frame: pl.DataFrame) -> pl.DataFrame:
        return (
            frame.filter(pl.col("occurred_at") < moment)
            .select(pl.col("occurred_at").dt.date(), "case_id", "level", "group_size")
            .sort(pl.all())
        )

    assert days_before(plain).equals(days_before(common))
    assert not plain.equals(common)  # the days after drew from their own streams


def test_the_office_writes_down_what_a_leader_or_a_mediator_did(at_first_day: History) -> None:
    live = at_first_day.live
    assert live is not None
    rows = np.array([3, 5, 8])
    steps = [["face_to_face", "chase_answer", "dialogue"], ["legal_aid"], ["chase_answer"]]
    batch = recorded(live, rows, steps)
    written = {
        (int(row), int(kind))
        for part, kinds in zip(batch.rows, batch.types, strict=True)
        for row, kind in zip(part, kinds, strict=True)
    }
    assert written == {(3, ACTION["leader_reception"]), (5, ACTION["mediation"])}
