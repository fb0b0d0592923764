"""The policies compared: no list, the office's rule, random K, earlywarn, the oracle.

All but earlywarn act with the steps an office takes from what it can see
(``simulator.interventions.usual_steps``); earlywarn acts with the steps its own
list recommends. The oracle ranks by the true chance of a skip-level or a group
visit on the day ahead, from the hidden state: what no office can know.
"""

from __future__ import annotations

import numpy as np

from earlywarn.simulator.interventions import usual_steps
from earlywarn.simulator.petitioners import daily_hazard
from earlywarn.value.office import OfficeRun

RULE_CONTACTS, RULE_DAYS = 3, 90  # the office's rule: 3+ contacts in 90 days (重信重访)


class _UsualSteps:
    def steps(self, run: OfficeRun, rows: np.ndarray) -> list[list[str]]:
        live = run.history.live
        assert live is not None
        return usual_steps(live, rows, run.day, run.history.timeline)


class NoList(_UsualSteps):
    """Today's practice without a list: nobody is singled out."""

    name = "no list"

    def listed(self, run: OfficeRun, rows: np.ndarray, k: int) -> np.ndarray:
        return rows[:0]


class RandomK(_UsualSteps):
    name = "random K"

    def listed(self, run: OfficeRun, rows: np.ndarray, k: int) -> np.ndarray:
        rng = np.random.default_rng([run.seed, run.day, 11])
        return rng.permutation(rows)[:k]


class OfficeRule(_UsualSteps):
    """Cases with three contacts or more in the last 90 days, the most contacts first
    (ties in a random order): the repeat-petition rule offices apply today."""

    name = "office rule"

    def listed(self, run: OfficeRun, rows: np.ndarray, k: int) -> np.ndarray:
        live = run.history.live
        assert live is not None
        first = run.day - RULE_DAYS
        recent = []
        for part in reversed(run.history.recorder.contact_parts):  # newest first
            if part[2].size and part[2][0] < first:
                break
            recent.append(part[0])
        numbers, counts = np.unique(
            np.concatenate(recent or [np.zeros(0, np.int64)]), return_counts=True
        )
        position = np.searchsorted(numbers, live.case_number[rows])
        found = (position < numbers.size) & (
            numbers[np.minimum(position, numbers.size - 1)] == live.case_number[rows]
        )
        count = np.where(found, counts[np.minimum(position, numbers.size - 1)], 0)
        tie = np.random.default_rng([run.seed, run.day, 13]).random(rows.size)
        order = np.lexsort((tie, -count))
        chosen = order[count[order] >= RULE_CONTACTS][:k]
        return rows[chosen]


class OracleList(_UsualSteps):
    """Top K by the true chance of a skip-level or a group visit on the day ahead."""

    name = "oracle"

    def listed(self, run: OfficeRun, rows: np.ndarray, k: int) -> np.ndarray:
        history = run.history
        live = history.live
        assert live is not None
        context = history.context()
        escalation, group = daily_hazard(live, context, history.world)
        risk = (escalation + group)[rows]
        return rows[np.argsort(-risk, kind="stable")[:k]]
