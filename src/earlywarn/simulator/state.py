"""The full state of every live case, hidden parts included, as columns of arrays.

One row per (world, case). The main run has one world; the oracle's rollouts
copy the state into many worlds and let each go its own way.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import IntEnum

import numpy as np

NEVER = -(10**6)  # a day index for "has not happened"
NOT_SCHEDULED = 10**7  # a day index for "nothing planned"


class Stage(IntEnum):
    """Where the handling of a case stands."""

    REGISTERED = 0  # waiting for the acceptance decision
    ACCEPTED = 1  # waiting for the answer
    ANSWERED = 2  # waiting for the petitioner's rating
    CLOSING = 3  # satisfied or settled: closure follows
    UNSATISFIED = 4  # may ask for a review
    REVIEW = 5  # review requested, decision pending
    REVIEWED = 6  # review upheld: may ask for a re-review
    RE_REVIEW = 7  # re-review requested, decision pending
    RE_REVIEWED = 8  # re-review upheld: termination follows
    CLOSED = 9
    TERMINATED = 10
    REJECTED = 11  # not accepted


DISSATISFIED_STAGES = np.array(
    [
        Stage.UNSATISFIED,
        Stage.REVIEW,
        Stage.REVIEWED,
        Stage.RE_REVIEW,
        Stage.RE_REVIEWED,
        Stage.REJECTED,
    ]
)


@dataclass
class Cases:
    """Columns of the live cases. Hidden columns are marked; offices never see them."""

    case_number: np.ndarray  # int64, global index: the case id
    petitioner: np.ndarray  # int64
    world: np.ndarray  # int32
    county: np.ndarray  # int16
    township: np.ndarray  # int32
    unit: np.ndarray  # int32, current responsible unit
    category: np.ndarray  # int8
    nature: np.ndarray  # int8
    registered_day: np.ndarray  # int32
    intensity: np.ndarray  # float32, hidden: how strongly the grievance is felt
    resolvability: np.ndarray  # float32, hidden: chance a handling step can solve it
    people: np.ndarray  # int32, hidden: people who share the grievance
    agitation: np.ndarray  # float32, hidden: self-exciting urge to petition again
    resolved: np.ndarray  # bool, hidden: the problem is actually solved
    stage: np.ndarray  # int8
    next_step_day: np.ndarray  # int32, hidden: when the office's next step happens
    answer_due_day: np.ndarray  # int32: 60 days after acceptance
    answer_late: np.ndarray  # int16: days the last answer came after its due day
    last_outcome: np.ndarray  # int8: outcome code of the last answer
    home_level: np.ndarray  # int8: the level that should handle the matter
    top_level: np.ndarray  # int8: highest level the matter has been taken to
    max_contact_level: np.ndarray  # int8: highest contact level (-1: no contact)
    contacts: np.ndarray  # int32
    escalations: np.ndarray  # int16
    transfers: np.ndarray  # int16
    unsatisfied: np.ndarray  # int16: unsatisfied ratings and upheld reviews
    leader_day: np.ndarray  # int32
    leader_pending_day: np.ndarray  # int32, hidden: a leader reception planned
    mediated: np.ndarray  # bool
    relieved: np.ndarray  # bool
    last_activity_day: np.ndarray  # int32
    temper: np.ndarray  # float32, hidden: the petitioner's own readiness (1 in the reference world)
    # What an office's intervention left behind (simulator/interventions.py), hidden, all
    # zero without one: each fades by ``calm_decay`` a day.
    calm: np.ndarray  # float32: contacts x exp(-calm), skip-level logit - calm
    group_calm: np.ndarray  # float32: group-visit logit - group_calm
    period_calm: np.ndarray  # float32, 0..1: the share of a sensitive period's pull removed
    calm_decay: np.ndarray  # float32: the daily fade of the three

    def __len__(self) -> int:
        return int(self.case_number.shape[0])

    def take(self, rows: np.ndarray) -> Cases:
        return Cases(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    def repeat(self, worlds: int) -> Cases:
        """``worlds`` copies of every row, world w holding the w-th copy."""
        copies = Cases(**{f.name: np.tile(getattr(self, f.name), worlds) for f in fields(self)})
        copies.world = np.repeat(np.arange(worlds, dtype=np.int32), len(self))
        return copies

    @staticmethod
    def concat(parts: list[Cases]) -> Cases:
        return Cases(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Cases)}
        )
