"""What an office's handling step does to a simulated case: the value study's levers.

A step recommended by a list (models/steps.py) acts on the case's hidden state, and
only on that case. Four kinds of effect, each sized by a parameter of ``Effects``
(docs/value.md gives the assumptions behind each default):

* **hasten**: chasing the unit or the acceptance decision (accept_now, chase_answer,
  lead_unit) removes a share of the wait before the office's next step.
* **calm and solve**: a senior owner, a leader reception face to face, the review
  explained, the county taking the case home, legal aid (senior_owner, face_to_face,
  explain_review, solve_at_home, legal_aid) lower the urge to come back and to go
  over the county's head, and may solve the matter (a chance scaled by how solvable
  it is).
* **dialogue**: talking with a group's representatives early (dialogue) lowers the
  chance that the next contact is a group visit.
* **before the period**: resolving before a sensitive period (before_period) removes
  a share of the period's pull on contacts, skip-level visits and groups.

An intervention can fail (nothing happens), and every effect but a solved matter
fades day by day. With ``scale`` 0 nothing happens at all: the history is the same
as without the list.

What the office did is written down as the case systems write it (``recorded``): a
leader reception for the steps a leader takes, a mediation for legal aid; chasing a
unit leaves no record of its own (the earlier answer is the record). The record does
not touch the hidden state: its effect is the step's, sized above.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from earlywarn.models.steps import FALLBACK, PERIOD_AHEAD_DAYS
from earlywarn.simulator.engine import Timeline
from earlywarn.simulator.office import ActionBatch
from earlywarn.simulator.petitioners import GROUP_THRESHOLD
from earlywarn.simulator.state import DISSATISFIED_STAGES, NOT_SCHEDULED, Cases, Stage
from earlywarn.simulator.world import SHARED_INTEREST

HASTEN, CALM, DIALOGUE, PERIOD, FOLLOW = "hasten", "calm", "dialogue", "period", "follow"
EFFECT_OF_STEP = {
    "accept_now": HASTEN,
    "chase_answer": HASTEN,
    "lead_unit": HASTEN,
    "senior_owner": CALM,
    "face_to_face": CALM,
    "explain_review": CALM,
    "solve_at_home": CALM,
    "legal_aid": CALM,
    "dialogue": DIALOGUE,
    "before_period": PERIOD,
    FALLBACK: FOLLOW,  # someone follows the case: half a calm, no solution
}


# The action (contract vocabulary) an office records for a step; others leave none.
RECORDED_AS = {
    "senior_owner": "leader_reception",
    "face_to_face": "leader_reception",
    "explain_review": "leader_reception",
    "solve_at_home": "leader_reception",
    "dialogue": "leader_reception",
    "before_period": "leader_reception",
    "legal_aid": "mediation",
}


@dataclass(frozen=True)
class Effects:
    """Effect sizes; ``scale`` multiplies all of them (0: no effect, the control)."""

    scale: float = 1.0
    failure: float = 0.3  # the chance that an intervention changes nothing
    fade_days: float = 30.0  # effects fall by e every this many days
    hasten: float = 0.7  # share of the wait for the office's next step removed
    calm: float = 0.7  # contacts x exp(-calm); skip-level logit - calm
    solve: float = 0.3  # chance x resolvability that the matter is solved
    dialogue: float = 1.5  # group-visit logit - dialogue (x 0.22: 57 of 74 stayed home)
    period: float = 0.8  # share of a sensitive period's pull removed

    def __post_init__(self) -> None:
        if self.scale < 0 or not 0 <= self.failure <= 1 or self.fade_days <= 0:
            raise ValueError("effects: scale >= 0, failure in [0, 1], fade_days > 0")


def usual_steps(cases: Cases, rows: np.ndarray, day: int, timeline: Timeline) -> list[list[str]]:
    """The steps an office takes for a case it decides to act on, from what it can see
    (the policies without earlywarn's own steps): a legal clock run out first, then the
    dissatisfied, a matter of many people, a sensitive period ahead; else a senior owner."""
    ahead = np.asarray(timeline.sensitive[day : day + PERIOD_AHEAD_DAYS + 1].any(axis=0))
    steps: list[list[str]] = []
    for row in rows.tolist():
        stage = int(cases.stage[row])
        chosen = []
        if stage == Stage.REGISTERED and day - int(cases.registered_day[row]) > 15:
            chosen.append("accept_now")
        if stage == Stage.ACCEPTED and day > int(cases.answer_due_day[row]):
            chosen.append("chase_answer")
        if stage in DISSATISFIED_STAGES or int(cases.unsatisfied[row]) > 0:
            chosen.append("face_to_face")
        category = int(cases.category[row])
        if cases.people[row] >= GROUP_THRESHOLD and SHARED_INTEREST[category] > 0:
            chosen.append("dialogue")
        if ahead[category]:
            chosen.append("before_period")
        steps.append(chosen or ["senior_owner"])
    return steps


def intervene(
    cases: Cases,
    rows: np.ndarray,
    steps: list[list[str]],
    day: int,
    effects: Effects,
    rng: np.random.Generator,
) -> np.ndarray:
    """Apply each row's steps to its hidden state; returns which interventions took.

    ``rng`` is the intervention's own stream: the history's draws stay as they were."""
    took = rng.random(rows.size) >= effects.failure
    solve_draw = rng.random(rows.size)
    s = effects.scale
    for row, keys, ok, draw in zip(rows.tolist(), steps, took.tolist(), solve_draw, strict=True):
        if not ok or s == 0:
            continue
        kinds = {EFFECT_OF_STEP.get(key, FOLLOW) for key in keys}
        cases.calm_decay[row] = np.float32(np.exp(-1.0 / effects.fade_days))
        if HASTEN in kinds and cases.next_step_day[row] != NOT_SCHEDULED:
            wait = max(int(cases.next_step_day[row]) - day, 0)
            # The office steps of ``day`` run after this morning: a step may come today.
            cases.next_step_day[row] = day + round(wait * max(0.0, 1 - s * effects.hasten))
        if CALM in kinds or FOLLOW in kinds:
            strength = s * effects.calm * (1.0 if CALM in kinds else 0.5)
            cases.calm[row] = max(float(cases.calm[row]), strength)
        if CALM in kinds and draw < min(1.0, s * effects.solve) * cases.resolvability[row]:
            cases.resolved[row] = True
        if DIALOGUE in kinds:
            cases.group_calm[row] = max(float(cases.group_calm[row]), s * effects.dialogue)
        if PERIOD in kinds:
            share = min(1.0, s * effects.period)
            cases.period_calm[row] = max(float(cases.period_calm[row]), share)
    return took


def recorded(cases: Cases, rows: np.ndarray, steps: list[list[str]]) -> ActionBatch:
    """The actions the office writes down for these rows' steps, one per kind and case."""
    batch = ActionBatch.empty()
    for action in sorted(set(RECORDED_AS.values())):
        taken = np.array(
            [row for row, keys in zip(rows.tolist(), steps, strict=True)
             if any(RECORDED_AS.get(key) == action for key in keys)],
            dtype=np.int64,
        )  # fmt: skip
        batch.add(taken, action, cases.unit[taken])
    return batch
