"""The day loop: arrivals, the offices' day, the petitioners' day, bookkeeping.

The same loop runs the main history (one world) and the oracle's rollouts
(many worlds from one saved state), so the truth comes from the very dynamics
that wrote the data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from earlywarn.features.calendar import Calendar
from earlywarn.simulator.office import ActionBatch, acceptance_delay
from earlywarn.simulator.petitioners import ContactBatch
from earlywarn.simulator.state import NEVER, NOT_SCHEDULED, Cases, Stage
from earlywarn.simulator.world import (
    COUNTY,
    FAMILIES,
    INTENSITY,
    LEVEL,
    NATURE,
    REPORT_SHARE,
    RESOLVABILITY,
    SHARED_INTEREST,
    World,
)

GROUP_MEMORY_DECAY = float(np.exp(-1 / 12))  # group visits nearby weigh for about a month


@dataclass
class Timeline:
    """Calendar facts for each simulated day, shared by all worlds."""

    start: dt.date
    n_days: int
    sensitive: np.ndarray  # [day, category]
    county_sensitive: np.ndarray  # [county, day, category]
    national_sensitive: np.ndarray  # [day]
    weekend: np.ndarray  # [day]

    @classmethod
    def build(
        cls, start: dt.date, n_days: int, calendar: Calendar, counties: tuple[str, ...]
    ) -> Timeline:
        sensitive = calendar.day_category_matrix(start, n_days)
        days = np.arange(n_days)
        weekday = (np.array(start.weekday()) + days) % 7
        return cls(
            start=start,
            n_days=n_days,
            sensitive=sensitive,
            county_sensitive=calendar.county_day_category_matrix(start, n_days, counties),
            national_sensitive=np.asarray(sensitive.all(axis=1)),
            weekend=weekday >= 5,
        )

    def date(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=day)


@dataclass
class HiddenEvents:
    """Unannounced local events (a project dispute flaring up, a visit no calendar
    lists): per county and family, a multiplier on contacts and group visits."""

    county: np.ndarray
    family: np.ndarray
    first_day: np.ndarray
    last_day: np.ndarray
    strength: np.ndarray

    @classmethod
    def draw(
        cls, rng: np.random.Generator, world: World, first_day: int, n_days: int
    ) -> HiddenEvents:
        counties = len(world.county_codes)
        weakest, strongest = world.traits.local_event_strength
        count = rng.poisson(world.traits.local_events_per_county_year * counties * n_days / 365)
        start = rng.integers(first_day, first_day + max(n_days, 1), count)
        return cls(
            county=rng.integers(0, counties, count),
            family=rng.integers(0, len(FAMILIES), count),
            first_day=start,
            last_day=start + rng.integers(4, 21, count),
            strength=rng.uniform(weakest, strongest, count),
        )

    def multiplier(
        self, day: int, worlds: int, counties: int, world_of_event: np.ndarray | None = None
    ) -> np.ndarray:
        table = np.ones((worlds, counties, len(FAMILIES)), dtype=np.float32)
        on = (self.first_day <= day) & (day <= self.last_day)
        world = np.zeros(on.sum(), dtype=np.int64) if world_of_event is None else world_of_event[on]
        np.maximum.at(
            table, (world, self.county[on], self.family[on]), self.strength[on].astype(np.float32)
        )
        return table


@dataclass
class Recorder:
    """Contacts and actions as they happen, with the case number and world of each."""

    contact_parts: list[tuple[np.ndarray, ...]] = field(default_factory=list)
    action_parts: list[tuple[np.ndarray, ...]] = field(default_factory=list)

    def contacts(self, cases: Cases, day: int, batch: ContactBatch) -> None:
        if batch.rows.size:
            self.contact_parts.append(
                (
                    cases.case_number[batch.rows],
                    cases.world[batch.rows],
                    np.full(batch.rows.size, day, dtype=np.int32),
                    batch.channel,
                    batch.level,
                    batch.group_size,
                )
            )

    def actions(self, cases: Cases, day: int, batch: ActionBatch) -> None:
        for rows, types, units, outcomes in zip(
            batch.rows, batch.types, batch.units, batch.outcomes, strict=True
        ):
            self.action_parts.append(
                (
                    cases.case_number[rows],
                    cases.world[rows],
                    np.full(rows.size, day, dtype=np.int32),
                    types,
                    units,
                    outcomes,
                )
            )


def new_cases(
    rng: np.random.Generator,
    world: World,
    timeline: Timeline,
    day: int,
    count: int,
    first_number: int,
    world_index: np.ndarray,
    live: Cases | None,
    category_factors: np.ndarray | None = None,
) -> Cases:
    """``count`` cases registered on ``day``, in the worlds given per case; a category
    factor makes a category that much more frequent (a surge)."""
    sensitive = timeline.sensitive[day]
    weights = world.traits.shares() * (1.0 + 0.8 * sensitive)
    if category_factors is not None:
        weights = weights * category_factors
    category = rng.choice(len(weights), count, p=weights / weights.sum()).astype(np.int8)
    county = rng.integers(0, len(world.county_codes), count).astype(np.int16)
    per_county = world.n_townships // len(world.county_codes)
    township = (county * per_county + rng.integers(0, per_county, count)).astype(np.int32)
    shared = rng.random(count) < SHARED_INTEREST[category]
    people = np.where(
        shared, np.minimum(rng.lognormal(np.log(28), 0.8, count), 800), 1 + rng.poisson(0.4, count)
    )
    u = rng.random(count)
    nature = np.where(
        u < REPORT_SHARE[category],
        NATURE["report"],
        np.where(
            u > 0.955, NATURE["inquiry"], np.where(u > 0.9, NATURE["suggestion"], NATURE["appeal"])
        ),
    )
    intensity = (INTENSITY[category] * rng.lognormal(0.0, 0.6, count)).astype(np.float32)
    petitioner = first_number + np.arange(count, dtype=np.int64)
    spread = world.traits.temper_spread
    # Drawn only when the world has tempers, so the reference world's draws stay as they were.
    temper = rng.lognormal(0.0, spread, count) if spread > 0 else np.ones(count)
    repeat = rng.random(count) < world.traits.repeat_petitioner
    if live is not None and len(live) and repeat.any():
        unhappy = np.flatnonzero(live.unsatisfied > 0)
        pool = unhappy if unhappy.size else np.arange(len(live))
        parents = rng.choice(pool, int(repeat.sum()))
        petitioner[repeat] = live.petitioner[parents]
        intensity[repeat] = 0.5 * intensity[repeat] + 0.5 * live.intensity[parents] * 1.2
        temper[repeat] = live.temper[parents]  # the same person, the same temper
    home = np.where(rng.random(count) < 0.38, LEVEL["township"], COUNTY).astype(np.int8)
    unit = world.department_units(county.astype(np.int64), category.astype(np.int64)).astype(
        np.int32
    )
    resolvability = np.clip(rng.beta(2.0, 2.0, count) * 2 * RESOLVABILITY[category], 0.02, 0.98)
    return Cases(
        case_number=first_number + np.arange(count, dtype=np.int64),
        petitioner=petitioner,
        world=world_index.astype(np.int32),
        county=county,
        township=township,
        unit=unit,
        category=category,
        nature=nature.astype(np.int8),
        registered_day=np.full(count, day, dtype=np.int32),
        intensity=intensity,
        resolvability=resolvability.astype(np.float32),
        people=np.maximum(1, people).astype(np.int32),
        agitation=np.full(count, 0.3, dtype=np.float32),
        resolved=np.zeros(count, dtype=bool),
        stage=np.full(count, Stage.REGISTERED, dtype=np.int8),
        next_step_day=(day + acceptance_delay(world, unit, rng)).astype(np.int32),
        answer_due_day=np.full(count, NOT_SCHEDULED, dtype=np.int32),
        answer_late=np.zeros(count, dtype=np.int16),
        last_outcome=np.zeros(count, dtype=np.int8),
        home_level=home,
        top_level=home.copy(),
        max_contact_level=np.full(count, -1, dtype=np.int8),
        contacts=np.zeros(count, dtype=np.int32),
        escalations=np.zeros(count, dtype=np.int16),
        transfers=np.zeros(count, dtype=np.int16),
        unsatisfied=np.zeros(count, dtype=np.int16),
        leader_day=np.full(count, NEVER, dtype=np.int32),
        leader_pending_day=np.full(count, NOT_SCHEDULED, dtype=np.int32),
        mediated=np.zeros(count, dtype=bool),
        relieved=np.zeros(count, dtype=bool),
        last_activity_day=np.full(count, day, dtype=np.int32),
        temper=temper.astype(np.float32),
        calm=np.zeros(count, dtype=np.float32),
        group_calm=np.zeros(count, dtype=np.float32),
        period_calm=np.zeros(count, dtype=np.float32),
        calm_decay=np.ones(count, dtype=np.float32),
    )


def first_contacts(cases: Cases, rng: np.random.Generator) -> ContactBatch:
    """The contact that registers a case: most at the level that should handle it."""
    count = len(cases)
    climb = rng.random(count)
    level = np.where(
        climb < 0.07, LEVEL["city"], np.where(climb < 0.09, LEVEL["province"], cases.home_level)
    )
    level = level.astype(np.int8)
    cases.top_level[:] = np.maximum(cases.top_level, level)
    cases.max_contact_level[:] = level
    cases.contacts[:] = 1
    crowd = (cases.people >= 5) & (rng.random(count) < 0.12)
    size = np.where(
        crowd, np.maximum(5, rng.binomial(cases.people, 0.4)), 1 + rng.poisson(0.2, count)
    )
    channel = rng.choice(4, count, p=[0.25, 0.40, 0.27, 0.08]).astype(np.int8)
    channel = np.where(crowd, 1, channel).astype(np.int8)
    return ContactBatch(np.arange(count), channel, level, size.astype(np.int32))


def is_finished(cases: Cases, day: int) -> np.ndarray:
    """Cases the simulation can forget: terminated, or quiet for more than a year."""
    quiet = (day - cases.last_activity_day > 400) & (cases.next_step_day == NOT_SCHEDULED)
    return (cases.stage == Stage.TERMINATED) | quiet
