"""One day of the offices' work: scheduled handling steps and the unscheduled ones.

Statutory clocks drive the schedule (acceptance within 15 days, answer within
60 days of acceptance, review and re-review within 30 days); slow departments
miss them and pass cases on. Every step is recorded as an action.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from earlywarn.contract.spec import ACTION_TYPES, OUTCOMES
from earlywarn.simulator.state import DISSATISFIED_STAGES, NOT_SCHEDULED, Cases, Stage
from earlywarn.simulator.world import DEPARTMENTS, DISPUTE, RELIEF, World

ACTION = {name: index for index, name in enumerate(ACTION_TYPES)}
OUTCOME = {name: index for index, name in enumerate(OUTCOMES)}
NO_OUTCOME = -1
ANSWER_OUTCOMES = np.array(
    [OUTCOME["supported"], OUTCOME["partly_supported"], OUTCOME["not_supported"]]
)
_SATISFACTION_BONUS = np.zeros(len(OUTCOMES))
_SATISFACTION_BONUS[
    [OUTCOME["supported"], OUTCOME["partly_supported"], OUTCOME["not_supported"]]
] = (
    1.3,
    0.1,
    -1.3,
)
_PETITION_BUREAU = next(i for i, (code, _) in enumerate(DEPARTMENTS) if code == "XFJ")


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class ActionBatch:
    """Actions taken on one day: rows of the case table, type, unit and outcome codes."""

    rows: list[np.ndarray]
    types: list[np.ndarray]
    units: list[np.ndarray]
    outcomes: list[np.ndarray]

    @classmethod
    def empty(cls) -> ActionBatch:
        return cls([], [], [], [])

    def add(
        self, rows: np.ndarray, action: str, units: np.ndarray, outcome: np.ndarray | None = None
    ) -> None:
        if rows.size == 0:
            return
        self.rows.append(rows)
        self.types.append(np.full(rows.size, ACTION[action], dtype=np.int8))
        self.units.append(units.astype(np.int32))
        self.outcomes.append(
            np.full(rows.size, NO_OUTCOME, dtype=np.int8)
            if outcome is None
            else outcome.astype(np.int8)
        )


def answer_delay(world: World, units: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Days from acceptance to the answer: most in time, slow departments late."""
    mean = world.rates.answer_days_mean * world.unit_slowness[units]
    return np.maximum(3, rng.gamma(6.0, mean / 6.0)).astype(np.int32)


def acceptance_delay(world: World, units: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    mean = 5.0 * world.unit_slowness[units]
    return (1 + rng.geometric(1.0 / (1.0 + mean))).astype(np.int32)


def _later(rng: np.random.Generator, rows: np.ndarray, first: int, mean: float) -> np.ndarray:
    return (first + rng.geometric(1.0 / (1.0 + mean), rows.size)).astype(np.int32)


def run_office_day(cases: Cases, day: int, world: World, rng: np.random.Generator) -> ActionBatch:
    """Take every handling step due today, then the unscheduled ones."""
    batch = ActionBatch.empty()
    rates = world.rates
    due = np.flatnonzero(cases.next_step_day == day)
    stage = cases.stage[due]

    def at(s: Stage) -> np.ndarray:
        return due[stage == s]

    # Acceptance decision (受理 / 不予受理), then assignment (交办).
    rows = at(Stage.REGISTERED)
    rejected = rng.random(rows.size) < rates.reject_share
    out, rows = rows[rejected], rows[~rejected]
    batch.add(out, "rejected", cases.unit[out])
    cases.stage[out] = Stage.REJECTED
    cases.next_step_day[out] = NOT_SCHEDULED
    cases.agitation[out] += rates.agitation_unsatisfied
    batch.add(rows, "accepted", cases.unit[rows])
    batch.add(rows, "assigned", cases.unit[rows])
    _open_answer_clock(cases, rows, day, world, rng)

    # The answer (出具处理意见): its outcome follows how solvable the matter is.
    rows = at(Stage.ACCEPTED)
    r = cases.resolvability[rows]
    u = rng.random(rows.size)
    outcome = np.where(u < 0.65 * r, 0, np.where(u < 0.65 * r + 0.3, 1, 2))
    codes = ANSWER_OUTCOMES[outcome]
    batch.add(rows, "responded", cases.unit[rows], codes)
    cases.stage[rows] = Stage.ANSWERED
    cases.answer_late[rows] = np.clip(day - cases.answer_due_day[rows], 0, 365)
    cases.last_outcome[rows] = codes
    cases.next_step_day[rows] = day + _later(rng, rows, 1, 4.0)
    cases.resolved[rows] |= (codes == OUTCOME["supported"]) & (rng.random(rows.size) < r)

    # Satisfaction rating (满意度评价).
    rows = at(Stage.ANSWERED)
    _rate(cases, rows, day, world, rng, batch)

    rows = at(Stage.CLOSING)
    batch.add(rows, "closed", cases.unit[rows])
    cases.stage[rows] = Stage.CLOSED
    cases.next_step_day[rows] = NOT_SCHEDULED

    # Review (复查) and re-review (复核), or formal closure of an unsatisfied matter.
    for waiting, requested, action, base in (
        (Stage.UNSATISFIED, Stage.REVIEW, "review_requested", -0.4),
        (Stage.REVIEWED, Stage.RE_REVIEW, "re_review_requested", -0.9),
    ):
        rows = at(waiting)
        asks = rng.random(rows.size) < sigmoid(base + 0.9 * np.log(cases.intensity[rows]))
        batch.add(rows[asks], action, cases.unit[rows[asks]])
        cases.stage[rows[asks]] = requested
        cases.next_step_day[rows[asks]] = day + _later(rng, rows[asks], 25, 15.0)
        done = rows[~asks]
        batch.add(done, "closed", cases.unit[done])
        cases.stage[done] = Stage.CLOSED
        cases.next_step_day[done] = NOT_SCHEDULED
    for pending_stage, upheld_stage, action, change_base in (
        (Stage.REVIEW, Stage.REVIEWED, "review_decided", 0.12),
        (Stage.RE_REVIEW, Stage.RE_REVIEWED, "re_review_decided", 0.08),
    ):
        rows = at(pending_stage)
        changed = rng.random(rows.size) < change_base + 0.25 * cases.resolvability[rows]
        outcome_codes = np.where(changed, OUTCOME["changed"], OUTCOME["upheld"])
        batch.add(rows, action, cases.unit[rows], outcome_codes)
        fixed, kept = rows[changed], rows[~changed]
        cases.resolved[fixed] |= rng.random(fixed.size) < 0.5 + 0.5 * cases.resolvability[fixed]
        cases.agitation[fixed] = np.maximum(0, cases.agitation[fixed] - 0.5)
        cases.stage[fixed] = Stage.CLOSING
        cases.next_step_day[fixed] = day + _later(rng, fixed, 1, 4.0)
        cases.unsatisfied[kept] += 1
        cases.agitation[kept] += 0.6 * rates.agitation_unsatisfied
        cases.stage[kept] = upheld_stage
        cases.next_step_day[kept] = day + _later(
            rng, kept, 3, 12.0 if action == "review_decided" else 20.0
        )

    rows = at(Stage.RE_REVIEWED)
    batch.add(rows, "terminated", cases.unit[rows])
    cases.stage[rows] = Stage.TERMINATED
    cases.next_step_day[rows] = NOT_SCHEDULED

    _unscheduled(cases, day, world, rng, batch)
    return batch


def _open_answer_clock(
    cases: Cases, rows: np.ndarray, day: int, world: World, rng: np.random.Generator
) -> None:
    cases.stage[rows] = Stage.ACCEPTED
    cases.answer_due_day[rows] = day + 60
    cases.next_step_day[rows] = day + answer_delay(world, cases.unit[rows], rng)


def _rate(
    cases: Cases,
    rows: np.ndarray,
    day: int,
    world: World,
    rng: np.random.Generator,
    batch: ActionBatch,
) -> None:
    rates = world.rates
    logit = (
        3.0 * (cases.resolvability[rows] - 0.5)
        + _SATISFACTION_BONUS[cases.last_outcome[rows]]
        - 0.5 * np.log(cases.intensity[rows])
        - 0.015 * np.minimum(cases.answer_late[rows], 120)
        + 0.8 * cases.resolved[rows]
    )
    satisfied = rng.random(rows.size) < sigmoid(logit)
    outcome = np.where(satisfied, OUTCOME["satisfied"], OUTCOME["unsatisfied"])
    batch.add(rows, "satisfaction", cases.unit[rows], outcome)
    happy, unhappy = rows[satisfied], rows[~satisfied]
    cases.resolved[happy] |= rng.random(happy.size) < 0.55 + 0.4 * cases.resolvability[happy]
    cases.stage[happy] = Stage.CLOSING
    cases.next_step_day[happy] = day + _later(rng, happy, 1, 3.0)
    cases.unsatisfied[unhappy] += 1
    cases.agitation[unhappy] += rates.agitation_unsatisfied
    cases.stage[unhappy] = Stage.UNSATISFIED
    cases.next_step_day[unhappy] = day + _later(rng, unhappy, 3, 10.0)


def _unscheduled(
    cases: Cases, day: int, world: World, rng: np.random.Generator, batch: ActionBatch
) -> None:
    rates = world.rates
    n = len(cases)
    draw = rng.random((4, n))
    stage = cases.stage

    # Transfers (转办): slow departments pass cases on; the answer slips.
    waiting = stage == Stage.ACCEPTED
    rows = np.flatnonzero(waiting & (draw[0] < world.unit_transfer[cases.unit]))
    batch.add(rows, "transferred", cases.unit[rows])
    county = world.unit_county[cases.unit[rows]]
    cases.unit[rows] = county * len(DEPARTMENTS) + rng.integers(0, len(DEPARTMENTS), rows.size)
    cases.transfers[rows] += 1
    cases.next_step_day[rows] += _later(rng, rows, 5, 7.0)

    # Leader reception and case ownership (领导接访、包案).
    rows = np.flatnonzero(cases.leader_pending_day == day)
    county = world.unit_county[cases.unit[rows]]
    batch.add(rows, "leader_reception", county * len(DEPARTMENTS) + _PETITION_BUREAU)
    cases.leader_day[rows] = day
    cases.leader_pending_day[rows] = NOT_SCHEDULED
    solved = rng.random(rows.size) < 0.35 * cases.resolvability[rows]
    cases.agitation[rows] = np.maximum(0, cases.agitation[rows] - 1.0) + np.where(solved, 0, 0.4)
    open_rows = rows[
        solved
        & np.isin(stage[rows], [Stage.ACCEPTED, Stage.ANSWERED, *DISSATISFIED_STAGES, Stage.CLOSED])
    ]
    cases.resolved[rows[solved]] = True
    cases.stage[open_rows] = Stage.CLOSING
    cases.next_step_day[open_rows] = day + _later(rng, open_rows, 2, 5.0)
    # Offices also receive the petitioners of cases that keep coming back.
    crowded = (
        (cases.agitation > 1.6)
        & (cases.leader_pending_day == NOT_SCHEDULED)
        & (day - cases.leader_day > 60)
    )
    rows = np.flatnonzero(crowded & (draw[1] < 0.01))
    cases.leader_pending_day[rows] = day + _later(rng, rows, 2, 5.0)

    # Mediation (调解) for disputes.
    eligible = DISPUTE[cases.category] & ~cases.mediated & (stage == Stage.ACCEPTED)
    rows = np.flatnonzero(eligible & (draw[2] < rates.mediation_daily))
    agreed = rng.random(rows.size) < 0.3 + 0.6 * cases.resolvability[rows]
    batch.add(
        rows, "mediation", cases.unit[rows], np.where(agreed, OUTCOME["agreed"], OUTCOME["failed"])
    )
    cases.mediated[rows] = True
    settled = rows[agreed]
    cases.resolved[settled] |= rng.random(settled.size) < 0.85
    cases.stage[settled] = Stage.CLOSING
    cases.next_step_day[settled] = day + _later(rng, settled, 1, 3.0)
    cases.agitation[rows[~agreed]] += 0.4

    # Hardship relief (救助) for dissatisfied petitioners in money matters.
    eligible = RELIEF[cases.category] & ~cases.relieved & np.isin(stage, DISSATISFIED_STAGES)
    rows = np.flatnonzero(eligible & (draw[3] < rates.relief_daily))
    batch.add(rows, "relief_granted", cases.unit[rows])
    cases.relieved[rows] = True
    cases.intensity[rows] *= 0.6
    cases.agitation[rows] = np.maximum(0, cases.agitation[rows] - 0.5)

    # Reopening (重新办理) of closed matters that were never solved.
    closed = (stage == Stage.CLOSED) & ~cases.resolved
    rows = np.flatnonzero(closed & (rng.random(n) < rates.reopen_daily * (1 + cases.agitation)))
    batch.add(rows, "reopened", cases.unit[rows])
    _open_answer_clock(cases, rows, day, world, rng)
