"""The oracle: each case's probability of escalating and of a group visit, from its full state.

From the saved state at the as-of moment (hidden intensity, resolvability,
agitation, the offices' schedule), the simulator is rolled forward over the
horizon many times in parallel worlds. The share of worlds in which a case
escalates (or sees a group of five or more) is the best any model could know.

Rollouts are adaptive: a first batch runs every live case together, so that
group visits nearby (攀比) arise from the same dynamics; later batches run only
the cases whose estimate is not yet precise enough (standard error at or above
the target), with the other cases' group visits replaced by their mean from the
first batch. New cases registered inside the horizon are not rolled out: they
affect existing cases only through group visits nearby, a small effect.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from earlywarn.simulator.engine import HiddenEvents, Timeline
from earlywarn.simulator.petitioners import GROUP_THRESHOLD
from earlywarn.simulator.run import Snapshot, step_day
from earlywarn.simulator.state import Cases
from earlywarn.simulator.world import COUNTY, FAMILIES, FAMILY_OF_CATEGORY, World

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OracleSettings:
    horizon_days: int = 30
    standard_error: float = 0.01  # target for both targets, every case
    first_batch: int = 200
    max_rollouts: int = 5000
    max_rows: int = 8_000_000  # case-world rows per batch, to bound memory


@dataclass
class Truth:
    case_number: np.ndarray
    rollouts: np.ndarray
    escalation_hits: np.ndarray
    collective_hits: np.ndarray

    def probability(self, hits: np.ndarray) -> np.ndarray:
        return hits / np.maximum(self.rollouts, 1)

    def standard_error(self, hits: np.ndarray) -> np.ndarray:
        p = self.probability(hits)
        return np.sqrt(p * (1 - p) / np.maximum(self.rollouts, 1))


def _needs_more(truth: Truth, target: float, cap: int) -> np.ndarray:
    """Cases whose estimate may still be too coarse: judged with a prior-smoothed p."""
    n = truth.rollouts
    done = np.ones_like(n, dtype=bool)
    for hits in (truth.escalation_hits, truth.collective_hits):
        p = (hits + 0.5) / (n + 1.0)
        done &= p * (1 - p) / np.maximum(n, 1) < target**2
    return ~done & (n < cap)


def _rollouts_needed(truth: Truth, rows: np.ndarray, target: float) -> int:
    """Worlds for the next batch: enough for half of the remaining cases; the rest
    come back with a new estimate, so no case pays for the hardest one's count."""
    n = truth.rollouts[rows]
    worst = np.zeros(rows.size)
    for hits in (truth.escalation_hits[rows], truth.collective_hits[rows]):
        p = (hits + 0.5) / (n + 1.0)
        worst = np.maximum(worst, p * (1 - p) / target**2 - n)
    return int(np.ceil(np.median(worst))) + 1


def estimate_truth(
    snapshot: Snapshot,
    population: np.ndarray,
    world: World,
    timeline: Timeline,
    seed: int,
    settings: OracleSettings | None = None,
) -> Truth:
    """Oracle probabilities for the live cases whose number is in ``population``."""
    settings = settings or OracleSettings()
    rng = np.random.default_rng(np.random.SeedSequence([seed, 20_251_122]))
    base = snapshot.cases
    wanted = np.isin(base.case_number, population)
    truth = Truth(
        case_number=base.case_number[wanted],
        rollouts=np.zeros(wanted.sum(), dtype=np.int64),
        escalation_hits=np.zeros(wanted.sum(), dtype=np.int64),
        collective_hits=np.zeros(wanted.sum(), dtype=np.int64),
    )
    wanted_rows = np.flatnonzero(wanted)
    threshold = np.where(base.max_contact_level < 0, COUNTY, base.max_contact_level)
    include = np.arange(len(base))
    worlds = max(20, min(settings.first_batch, settings.max_rows // max(len(base), 1)))
    external: tuple[np.ndarray, np.ndarray] | None = None
    batch = 0
    while include.size:
        batch += 1
        hits_e, hits_c, groups = _roll(
            snapshot, include, worlds, threshold, world, timeline, rng, settings, external
        )
        # Map the included rows back to the cases that want a truth.
        position = np.searchsorted(wanted_rows, include)
        inside = (position < wanted_rows.size) & (
            wanted_rows[np.minimum(position, wanted_rows.size - 1)] == include
        )
        target_rows = position[inside]
        truth.rollouts[target_rows] += worlds
        truth.escalation_hits[target_rows] += hits_e[inside]
        truth.collective_hits[target_rows] += hits_c[inside]
        remaining = np.flatnonzero(
            _needs_more(truth, settings.standard_error, settings.max_rollouts)
        )
        logger.info(
            "oracle batch %d: %d cases x %d worlds; %d cases need more rollouts",
            batch,
            include.size,
            worlds,
            remaining.size,
        )
        if batch == 1:
            external = _mean_field(
                groups, wanted_rows[remaining], base, world, worlds, settings.horizon_days
            )
        include = wanted_rows[remaining]
        if include.size:
            needed = _rollouts_needed(truth, remaining, settings.standard_error)
            worlds = int(np.clip(needed, 100, max(100, settings.max_rows // include.size)))
    return truth


def _roll(
    snapshot: Snapshot,
    include: np.ndarray,
    worlds: int,
    threshold: np.ndarray,
    world: World,
    timeline: Timeline,
    rng: np.random.Generator,
    settings: OracleSettings,
    external: tuple[np.ndarray, np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, np.ndarray]]]:
    """One batch: the included rows in ``worlds`` copies, stepped over the horizon."""
    sub = snapshot.cases.take(include)
    copies = sub.repeat(worlds)
    n = len(sub)
    town = np.repeat(snapshot.town_groups, worlds, axis=0)
    county = np.repeat(snapshot.county_groups, worlds, axis=0)
    hidden, event_worlds = _future_events(snapshot, worlds, world, settings.horizon_days, rng)
    escalated = np.zeros(worlds * n, dtype=bool)
    crowded = np.zeros(worlds * n, dtype=bool)
    sub_threshold = np.tile(threshold[include], worlds)
    groups: list[tuple[int, np.ndarray]] = []
    for offset in range(settings.horizon_days):
        day = snapshot.day + offset
        if external is not None:
            town += external[0][offset][None]
            county += external[1][offset][None]
        _, _, contacts = step_day(
            copies, day, world, timeline, hidden, town, county, rng, None, event_worlds
        )
        escalated[contacts.rows[contacts.level > sub_threshold[contacts.rows]]] = True
        big = contacts.rows[contacts.group_size >= GROUP_THRESHOLD]
        crowded[big] = True
        groups.append((offset, big % n))
    hits_e = escalated.reshape(worlds, n).sum(axis=0)
    hits_c = crowded.reshape(worlds, n).sum(axis=0)
    groups = [(offset, include[rows]) for offset, rows in groups]
    return hits_e, hits_c, groups


def _future_events(
    snapshot: Snapshot, worlds: int, world: World, horizon: int, rng: np.random.Generator
) -> tuple[HiddenEvents, np.ndarray]:
    """Local events already under way go on in every world; new ones are drawn per world."""
    ongoing = snapshot.hidden
    running = (ongoing.first_day < snapshot.day) & (ongoing.last_day >= snapshot.day)
    parts = [
        HiddenEvents(
            county=np.tile(ongoing.county[running], worlds),
            family=np.tile(ongoing.family[running], worlds),
            first_day=np.tile(ongoing.first_day[running], worlds),
            last_day=np.tile(ongoing.last_day[running], worlds),
            strength=np.tile(ongoing.strength[running], worlds),
        )
    ]
    owners = [np.repeat(np.arange(worlds), running.sum())]
    for w in range(worlds):
        fresh = HiddenEvents.draw(rng, world, snapshot.day, horizon)
        parts.append(fresh)
        owners.append(np.full(fresh.county.size, w))
    merged = HiddenEvents(
        *(
            np.concatenate([getattr(p, name) for p in parts])
            for name in ("county", "family", "first_day", "last_day", "strength")
        )
    )
    return merged, np.concatenate(owners)


def _mean_field(
    groups: list[tuple[int, np.ndarray]],
    kept: np.ndarray,
    base: Cases,
    world: World,
    worlds: int,
    horizon: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean group visits per day of the cases that leave the rollouts after the first batch."""
    town = np.zeros((horizon, world.n_townships, len(FAMILIES)), dtype=np.float32)
    county = np.zeros((horizon, len(world.county_codes), len(FAMILIES)), dtype=np.float32)
    for offset, rows in groups:
        leaving = rows[~np.isin(rows, kept)]
        family = FAMILY_OF_CATEGORY[base.category[leaving]]
        np.add.at(town[offset], (base.township[leaving], family), 1.0 / worlds)
        np.add.at(county[offset], (base.county[leaving], family), 1.0 / worlds)
    return town, county
