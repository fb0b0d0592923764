"""A family of worlds: the simulator's mechanisms, their strengths drawn from ranges.

A model (or a feature set) tuned on one simulated world can learn that world's
constants: how strongly dissatisfaction pushes a skip-level visit, how fast agitation
fades, how contagious group visits are. Real offices differ in all of these. A world of
the family keeps every mechanism of the reference world (world.py) and draws each
coefficient from a documented range around its reference value; it adds what the
reference world leaves out: petitioners who differ in temper beyond their grievance
(carried to every matter they bring), more or fewer repeat petitioners, unannounced
local events of varying frequency and strength, noisier escalation, and offices of
different quality. ``docs/simulator.md`` lists the ranges and why.

The draw depends on the family seed only, so the same seed gives the same world
whatever the history's own seed and size.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any, Literal

import numpy as np

from earlywarn.simulator.world import CATEGORY_SHARES, Rates, Traits, World

How = Literal["times", "plus", "between"]

# For each coefficient of Rates: "times" multiplies the reference value by a log-uniform
# factor in [low, high]; "plus" adds a uniform shift; "between" draws the value itself.
RATE_RANGES: dict[str, tuple[How, float, float]] = {
    # Petitioners: how often they come back, and what drives them.
    "contact_base": ("times", 0.7, 1.4),
    "agitation_decay": ("between", 0.88, 0.96),
    "agitation_per_contact": ("times", 0.6, 1.5),
    "agitation_unsatisfied": ("times", 0.5, 1.5),
    "sensitive_contact": ("between", 1.2, 2.4),
    "overdue_per_day": ("times", 0.5, 2.0),
    # The skip-level logit: each driver from a third to one and a half times as strong.
    "up_intercept": ("plus", -0.6, 0.6),
    "up_dissatisfied": ("times", 0.4, 1.6),
    "up_overdue_per_day": ("times", 0.4, 1.6),
    "up_transfer": ("times", 0.4, 1.6),
    "up_earlier_escalation": ("times", 0.4, 1.6),
    "up_sensitive": ("times", 0.3, 1.6),
    "up_intensity": ("times", 0.4, 1.6),
    "up_agitation": ("times", 0.4, 1.6),
    "up_leader": ("times", 0.4, 1.6),
    # The group logit; group_neighbours is the contagion (攀比).
    "group_intercept": ("plus", -0.6, 0.6),
    "group_sensitive": ("times", 0.3, 1.6),
    "group_neighbours": ("times", 0.3, 1.6),
    "group_agitation": ("times", 0.4, 1.6),
    "group_dissatisfied": ("times", 0.4, 1.6),
    "group_leader": ("times", 0.4, 1.6),
    "group_turnout": ("between", 0.4, 0.7),
    # Offices: delays, transfers, reactions.
    "reject_share": ("between", 0.02, 0.10),
    "answer_days_mean": ("between", 18.0, 40.0),
    "transfer_base": ("times", 0.5, 2.0),
    "leader_after_escalation": ("between", 0.2, 0.8),
    "mediation_daily": ("times", 0.5, 1.5),
    "relief_daily": ("times", 0.5, 1.5),
    "reopen_daily": ("times", 0.5, 1.5),
}
CATEGORY_CONCENTRATION = 40.0  # Dirichlet around the reference shares: ±30% for a 7% category
TEMPER_SPREAD = (0.3, 0.9)
REPEAT_PETITIONER = (0.06, 0.25)
LOCAL_EVENTS_PER_COUNTY_YEAR = (1.0, 8.0)
LOCAL_EVENT_WEAKEST = (1.4, 2.2)
LOCAL_EVENT_RANGE = (1.0, 2.5)  # the strongest is the weakest plus this
ESCALATION_NOISE = (0.3, 1.0)
UNIT_SLOWNESS_SPREAD = (0.0, 0.4)  # extra sd of the log of each unit's slowness


def _draw_rate(rng: np.random.Generator, how: How, low: float, high: float, value: float) -> float:
    if how == "times":
        return value * float(np.exp(rng.uniform(np.log(low), np.log(high))))
    if how == "plus":
        return value + float(rng.uniform(low, high))
    return float(rng.uniform(low, high))


def draw_parameters(seed: int) -> tuple[Rates, Traits, float]:
    """The rates, the traits and the extra spread of unit slowness of world ``seed``."""
    rng = np.random.default_rng([seed, 18])  # 18: the issue that made the family
    reference = Rates()
    rates = replace(
        reference,
        **{
            name: _draw_rate(rng, how, low, high, getattr(reference, name))
            for name, (how, low, high) in RATE_RANGES.items()
        },
    )
    shares = rng.dirichlet(CATEGORY_SHARES * CATEGORY_CONCENTRATION)
    weakest = float(rng.uniform(*LOCAL_EVENT_WEAKEST))
    traits = Traits(
        category_shares=tuple(float(s) for s in shares),
        temper_spread=float(rng.uniform(*TEMPER_SPREAD)),
        repeat_petitioner=float(rng.uniform(*REPEAT_PETITIONER)),
        local_events_per_county_year=float(rng.uniform(*LOCAL_EVENTS_PER_COUNTY_YEAR)),
        local_event_strength=(weakest, weakest + float(rng.uniform(*LOCAL_EVENT_RANGE))),
        escalation_noise=float(rng.uniform(*ESCALATION_NOISE)),
    )
    return rates, traits, float(rng.uniform(*UNIT_SLOWNESS_SPREAD))


def drawn_world(world: World, seed: int) -> World:
    """``world``'s area and units with the parameters of family member ``seed``."""
    rates, traits, slowness_spread = draw_parameters(seed)
    rng = np.random.default_rng([seed, 18, 1])
    slowness = world.unit_slowness * rng.lognormal(0.0, slowness_spread, world.unit_slowness.size)
    return replace(
        world,
        rates=rates,
        traits=traits,
        unit_slowness=slowness,
        unit_transfer=world.unit_transfer * (rates.transfer_base / Rates().transfer_base),
    )


def describe(world: World) -> dict[str, Any]:
    """The world's parameters, for the simulation's manifest."""
    return {"rates": asdict(world.rates), "traits": asdict(world.traits)}
