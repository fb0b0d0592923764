"""Simulate a petition office's case history and, optionally, the oracle's truth."""

from __future__ import annotations

import copy
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from earlywarn.contract.spec import CATEGORIES
from earlywarn.features.calendar import Calendar
from earlywarn.simulator.engine import (
    GROUP_MEMORY_DECAY,
    HiddenEvents,
    Recorder,
    Timeline,
    first_contacts,
    is_finished,
    new_cases,
)
from earlywarn.simulator.family import drawn_world
from earlywarn.simulator.office import run_office_day
from earlywarn.simulator.output import CaseRegistry, build_tables
from earlywarn.simulator.petitioners import Context, run_petitioners_day
from earlywarn.simulator.state import Cases
from earlywarn.simulator.world import FAMILIES, World, build_world

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
CASES_PER_TOWNSHIP_YEAR = 90


@dataclass(frozen=True)
class Surge:
    """From ``start`` on, one category's new cases arrive ``factor`` times as often (a
    land-requisition project, a plant closing): the world shifts under a model trained
    before. The other categories' arrivals stay as they were, and every day before
    ``start`` holds the same events as without the surge (the same random draws; the
    moments inside a day and the ids are drawn when the tables are written)."""

    category: str
    start: dt.date
    factor: float = 5.0


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate. Same config and seed, same bytes."""

    cases: int = 3000
    start: dt.date = dt.date(2023, 1, 1)
    end: dt.date = dt.date(2024, 12, 31)
    seed: int = 0
    counties: int | None = None  # None: sized to the caseload (see area_counties)
    townships_per_county: int = 8
    surge: Surge | None = None
    # A world drawn from the family (simulator/family.py) with this seed; None: the
    # reference world. The history's own seed stays ``seed``.
    family_seed: int | None = None
    # From this day on, each day's draws come from streams of their own (History._streams):
    # common random numbers for policies compared on the same world. None: one stream.
    common_days_from: dt.date | None = None

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def area_counties(self) -> int:
        """Counties enough for about 90 new cases per township and year.

        Group visits nearby (攀比) depend on how many cases share a township, so
        the area grows with the caseload and the calibration holds at any size.
        """
        if self.counties is not None:
            return self.counties
        per_year = self.cases * 365.25 / max(self.n_days, 1)
        return max(3, round(per_year / (CASES_PER_TOWNSHIP_YEAR * self.townships_per_county)))


@dataclass
class Snapshot:
    """Everything the simulation knows at the start of one day, hidden parts included."""

    day: int
    cases: Cases
    town_groups: np.ndarray
    county_groups: np.ndarray
    hidden: HiddenEvents


@dataclass
class SimulationResult:
    tables: dict[str, pl.DataFrame]
    calendar: dict[str, Any]
    world: World
    timeline: Timeline
    snapshot: Snapshot | None


def _known_local_events(
    rng: np.random.Generator, world: World, config: SimulationConfig
) -> dict[str, Any]:
    """Village committee elections the offices know about: the dataset's calendar.yaml."""
    periods = []
    for year in range(config.start.year, config.end.year + 1):
        if year % 3 != 2:  # elections every three years, staggered like 2020, 2023, 2026
            continue
        for county in rng.choice(
            len(world.county_codes), size=max(1, len(world.county_codes) // 2), replace=False
        ):
            start = dt.date(year, 3, 1) + dt.timedelta(days=int(rng.integers(0, 150)))
            periods.append(
                {
                    "key": f"village_elections_{world.county_codes[county]}_{year}",
                    "name_zh": "村（居）委会换届选举",
                    "name_en": "Village committee elections",
                    "start": start.isoformat(),
                    "end": (start + dt.timedelta(days=45)).isoformat(),
                    "categories": ["village_affairs", "cadre_conduct"],
                    "counties": [world.county_codes[county]],
                }
            )
    return {"periods": periods}


def _arrival_rates(config: SimulationConfig, timeline: Timeline, world: World) -> np.ndarray:
    weights = (1.0 + 0.3 * timeline.national_sensitive) * np.where(timeline.weekend, 0.4, 1.0)
    rates = float(config.cases) * weights / weights.sum()
    if config.surge is not None:  # the surging category's extra arrivals, on top
        share = world.traits.shares()[CATEGORIES.index(config.surge.category)]
        first = max((config.surge.start - config.start).days, 0)
        rates[first:] *= 1.0 + share * (config.surge.factor - 1.0)
    return rates


def _category_factors(config: SimulationConfig, day: int) -> np.ndarray | None:
    """Per category, how much more often it is drawn on ``day`` (None: as usual)."""
    surge = config.surge
    if surge is None or day < (surge.start - config.start).days:
        return None
    factors = np.ones(len(CATEGORIES))
    factors[CATEGORIES.index(surge.category)] = surge.factor
    return factors


class History:
    """The simulation as it runs, one day at a time, so that someone can act between
    two days (the value study's office, ``earlywarn.value``). ``simulate`` runs it from
    the first day to the last."""

    def __init__(self, config: SimulationConfig) -> None:
        self.config = config
        streams = np.random.SeedSequence(config.seed).spawn(4)
        world_rng, self._arrival_rng, self._dynamics_rng, event_rng = (
            np.random.default_rng(s) for s in streams
        )
        self._tables_seed = streams[3].spawn(1)[0]
        world = build_world(world_rng, config.area_counties, config.townships_per_county)
        if config.family_seed is not None:
            world = drawn_world(world, config.family_seed)
        self.world = world
        self.known_events = _known_local_events(world_rng, world, config)
        years = range(config.start.year, config.end.year + 1)
        self.timeline = Timeline.build(
            config.start, config.n_days, Calendar.build(years, self.known_events),
            world.county_codes,
        )  # fmt: skip
        self.hidden = HiddenEvents.draw(event_rng, world, 0, config.n_days)
        self._rates = _arrival_rates(config, self.timeline, world)
        self.town_groups = np.zeros((1, world.n_townships, len(FAMILIES)), dtype=np.float32)
        self.county_groups = np.zeros((1, len(world.county_codes), len(FAMILIES)), np.float32)
        self.recorder, self.registry = Recorder(), CaseRegistry()
        self.live: Cases | None = None
        self.day = 0  # the next day to run
        self._next_number = 0
        self._common_from = (
            (config.common_days_from - config.start).days
            if config.common_days_from is not None
            else None
        )

    @property
    def finished(self) -> bool:
        return self.day >= self.config.n_days

    def _streams(self) -> tuple[np.random.Generator, np.random.Generator, np.random.Generator]:
        """Arrivals, offices and petitioners' draws for today: one stream each for the
        whole run, or, from ``common_days_from`` on, fresh streams per day and purpose, so
        that acting on a case leaves the other cases' draws of later days as they were."""
        day = self.day
        if self._common_from is None or day < self._common_from:
            return self._arrival_rng, self._dynamics_rng, self._dynamics_rng
        arrival, office, people = (
            np.random.default_rng([self.config.seed, day, purpose]) for purpose in range(3)
        )
        return arrival, office, people

    def context(self) -> Context:
        """What the petitioners' next day looks like (nothing drawn)."""
        return day_context(
            self.day, self.world, self.timeline, self.hidden, self.town_groups,
            self.county_groups,
        )  # fmt: skip

    def snapshot(self) -> Snapshot:
        """Everything known at the start of the next day, hidden parts included."""
        assert self.live is not None, "no case registered yet"
        return Snapshot(
            self.day, copy.deepcopy(self.live), self.town_groups.copy(),
            self.county_groups.copy(), self.hidden,
        )  # fmt: skip

    def run_day(self) -> None:
        day = self.day
        arrival_rng, office_rng, people_rng = self._streams()
        count = int(arrival_rng.poisson(self._rates[day]))
        if count:
            arrivals = new_cases(
                arrival_rng, self.world, self.timeline, day, count, self._next_number,
                np.zeros(count), self.live, _category_factors(self.config, day),
            )  # fmt: skip
            self._next_number += count
            self.registry.add(arrivals)
            self.recorder.contacts(arrivals, day, first_contacts(arrivals, arrival_rng))
            self.live = arrivals if self.live is None else Cases.concat([self.live, arrivals])
        self.day += 1
        if self.live is None:
            return
        step_day(
            self.live, day, self.world, self.timeline, self.hidden, self.town_groups,
            self.county_groups, office_rng, self.recorder, people_rng=people_rng,
        )  # fmt: skip
        if day % 30 == 29:
            self.live = self.live.take(np.flatnonzero(~is_finished(self.live, day)))

    def tables(self) -> dict[str, pl.DataFrame]:
        """The contract's tables of everything recorded so far (the same draws for the
        moments inside a day and the ids whenever they are written)."""
        rng = np.random.default_rng(self._tables_seed)
        return build_tables(self.registry, self.recorder, self.world, self.timeline, rng)


def simulate(
    config: SimulationConfig, snapshot_day: dt.date | None = None, progress: Progress | None = None
) -> SimulationResult:
    """Run the history from start to end; keep the full state at the start of ``snapshot_day``."""
    history = History(config)
    snapshot: Snapshot | None = None
    snapshot_index = (snapshot_day - config.start).days if snapshot_day else None
    while not history.finished:
        if history.day == snapshot_index and history.live is not None:
            snapshot = history.snapshot()
        history.run_day()
        if progress and history.day % 30 == 0:
            progress(history.day, config.n_days)
    return SimulationResult(
        history.tables(), history.known_events, history.world, history.timeline, snapshot
    )


def day_context(
    day: int,
    world: World,
    timeline: Timeline,
    hidden: HiddenEvents,
    town_groups: np.ndarray,
    county_groups: np.ndarray,
    event_worlds: np.ndarray | None = None,
) -> Context:
    """What the petitioners' day looks like: the calendar, hidden events, groups nearby."""
    return Context(
        day=day,
        weekend=bool(timeline.weekend[day]),
        national_sensitive=bool(timeline.national_sensitive[day]),
        sensitive=timeline.sensitive[day],
        county_sensitive=timeline.county_sensitive[:, day, :],
        local_events=hidden.multiplier(
            day, town_groups.shape[0], len(world.county_codes), event_worlds
        ),
        town_groups=town_groups,
        county_groups=county_groups,
    )


def step_day(
    live: Cases,
    day: int,
    world: World,
    timeline: Timeline,
    hidden: HiddenEvents,
    town_groups: np.ndarray,
    county_groups: np.ndarray,
    rng: np.random.Generator,
    recorder: Recorder | None,
    event_worlds: np.ndarray | None = None,
    people_rng: np.random.Generator | None = None,
) -> tuple[Context, Any, Any]:
    """One day for every live case in every world: offices first, then petitioners
    (with their own stream if given)."""
    actions = run_office_day(live, day, world, rng)
    for rows in actions.rows:
        live.last_activity_day[rows] = day
    context = day_context(day, world, timeline, hidden, town_groups, county_groups, event_worlds)
    contacts = run_petitioners_day(live, context, world, people_rng or rng)
    if recorder is not None:
        recorder.actions(live, day, actions)
        recorder.contacts(live, day, contacts)
    live.agitation *= world.rates.agitation_decay
    for calm in (live.calm, live.group_calm, live.period_calm):  # interventions fade
        calm *= live.calm_decay
    town_groups *= GROUP_MEMORY_DECAY
    county_groups *= GROUP_MEMORY_DECAY
    return context, actions, contacts
