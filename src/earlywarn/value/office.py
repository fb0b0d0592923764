"""One simulated world from the study's first morning on, an office working one list.

Each morning the office reads the top ``K`` of the policy's list (``K``: the daily
list's capacity, the settings' share of the population) and acts on every listed
case it has not acted on in the last ``cooldown_days``, with the steps the policy
names. Then the world runs the day. The history before the first morning is shared
by every policy (a deep copy of one ``History``), and from the first morning on the
world's draws are common random numbers (``SimulationConfig.common_days_from``), so
that the policies differ only by what the office did.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import polars as pl

from earlywarn.contract.synthetic import pseudonyms
from earlywarn.models.capacity import Capacity
from earlywarn.simulator.interventions import Effects, intervene, recorded
from earlywarn.simulator.run import History
from earlywarn.simulator.state import Stage
from earlywarn.simulator.world import COUNTY

POPULATION_DAYS = 365  # the contract's scoring population: active within a year


class Policy(Protocol):
    """How an office chooses the cases it acts on, and what it does."""

    name: str

    def listed(self, run: OfficeRun, rows: np.ndarray, k: int) -> np.ndarray:
        """The first ``k`` of the list, most urgent first, as rows of the live cases."""
        ...

    def steps(self, run: OfficeRun, rows: np.ndarray) -> list[list[str]]:
        """The steps taken for each of ``rows`` (step keys of models/steps.py)."""
        ...


@dataclass
class Outcomes:
    """What happened over the study's days, in the whole world."""

    escalations: int  # contacts above every level the case reached before (越级访)
    collective: int  # contacts of a group of five or more (集体访)
    actions: int  # cases acted on (an intervention that failed counts: it was tried)
    took: int  # interventions that took


@dataclass
class OfficeRun:
    history: History  # at the study's first morning; this run's own copy
    policy: Policy
    effects: Effects
    capacity: Capacity
    cooldown_days: int
    seed: int
    last_acted: dict[int, int] = field(default_factory=dict)  # case number -> day
    ledger: list[tuple[int, int, tuple[str, ...], bool]] = field(default_factory=list)

    @property
    def day(self) -> int:
        return self.history.day

    def population(self) -> np.ndarray:
        """Rows of the live cases the list scores this morning."""
        live = self.history.live
        if live is None:
            return np.zeros(0, dtype=np.int64)
        recent = self.day - live.last_activity_day <= POPULATION_DAYS
        return np.flatnonzero((live.stage != Stage.TERMINATED) & recent)

    def morning(self) -> None:
        rows = self.population()
        if rows.size == 0:
            return
        listed = self.policy.listed(self, rows, self.capacity.at(rows.size))
        live = self.history.live
        assert live is not None
        fresh = np.array(
            [
                row
                for row in listed.tolist()
                if self.day - self.last_acted.get(int(live.case_number[row]), -(10**9))
                >= self.cooldown_days
            ],
            dtype=np.int64,
        )
        if fresh.size == 0:
            return
        steps = self.policy.steps(self, fresh)
        rng = np.random.default_rng([self.seed, self.day, 7])  # the office's own stream
        took = intervene(live, fresh, steps, self.day, self.effects, rng)
        # Written down whether it took or not: the office did it.
        self.history.recorder.actions(live, self.day, recorded(live, fresh, steps))
        for row, keys, ok in zip(fresh.tolist(), steps, took.tolist(), strict=True):
            number = int(live.case_number[row])
            self.last_acted[number] = self.day
            self.ledger.append((self.day, number, tuple(keys), ok))

    def run_until(self, last_day: int) -> None:
        """Mornings and days up to and including ``last_day`` (a day index)."""
        while self.history.day <= last_day:
            self.morning()
            self.history.run_day()

    def outcomes(self, first_day: int, last_day: int) -> Outcomes:
        contacts = contact_levels(self.history)
        inside = pl.col("day").is_between(first_day, last_day)
        counted = contacts.filter(inside).select(
            pl.col("climbed").sum().alias("escalations"),
            (pl.col("group_size") >= 5).sum().alias("collective"),
        )
        return Outcomes(
            escalations=int(counted["escalations"].item()),
            collective=int(counted["collective"].item()),
            actions=len(self.ledger),
            took=sum(1 for entry in self.ledger if entry[3]),
        )

    def treated(self) -> pl.DataFrame:
        """The ledger as the training's ``treated`` table: case_id, acted_at."""
        start = self.history.timeline.start
        return pl.DataFrame(
            {
                "case_id": pseudonyms(
                    "C", np.array([n for _, n, _, _ in self.ledger], dtype=np.int64), 8
                ),
                "acted_at": [  # the morning's work, in office hours
                    dt.datetime.combine(start + dt.timedelta(days=day), dt.time(9))
                    for day, _, _, _ in self.ledger
                ],
            },
            schema={"case_id": pl.String, "acted_at": pl.Datetime("us")},
        )


def contact_levels(history: History) -> pl.DataFrame:
    """Every recorded contact with whether it went over the county's head to a level its
    case had not reached before (越级访). Stricter than the escalation target, which
    also counts a climb from the township to the county."""
    parts = history.recorder.contact_parts
    frame = pl.DataFrame(
        {
            "case": np.concatenate([p[0] for p in parts]),
            "day": np.concatenate([p[2] for p in parts]),
            "level": np.concatenate([p[4] for p in parts]).astype(np.int16),
            "group_size": np.concatenate([p[5] for p in parts]),
        }
    ).with_row_index("order")
    before = pl.col("level").cum_max().shift(1).over("case", order_by="order").fill_null(COUNTY)
    return frame.with_columns(
        (pl.col("level") > pl.max_horizontal(before, pl.lit(COUNTY))).alias("climbed")
    )
