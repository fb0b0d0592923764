"""One day of the petitioners' behaviour: who comes back, how high, and how many.

A self-exciting contact process: each contact raises a hidden agitation that
decays over days; dissatisfaction, overdue handling, sensitive periods and
unannounced local events raise the rate; a solved problem lowers it. Skip-level
contacts and group visits follow logits over what the brief names.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from earlywarn.contract.spec import CHANNELS
from earlywarn.simulator.office import sigmoid
from earlywarn.simulator.state import DISSATISFIED_STAGES, NOT_SCHEDULED, Cases, Stage
from earlywarn.simulator.world import FAMILY_OF_CATEGORY, LEVEL, NATIONAL, SHARED_INTEREST, World

CHANNEL = {name: index for index, name in enumerate(CHANNELS)}
# Contact rate by stage: waiting, answered, closing, dissatisfied, in review, closed...
STAGE_RATE = np.array([1.0, 1.0, 0.8, 0.5, 2.2, 1.4, 2.0, 1.4, 2.0, 0.3, 0.0, 1.6])
GROUP_THRESHOLD = 5
_INDIVIDUAL_CHANNELS = np.array([0.18, 0.38, 0.32, 0.12])  # letter, visit, online, phone
_SKIP_CHANNELS = np.array([0.25, 0.60, 0.12, 0.03])
_GROUP_CHANNELS = np.array([0.15, 0.85, 0.0, 0.0])
# How a petitioner's temper (world.Traits) acts: contacts scale with temper ** 0.7, the
# skip-level logit moves by log(temper), the group logit by half of it.
TEMPER_ON_CONTACTS = 0.7
TEMPER_ON_GROUPS = 0.5


@dataclass
class Context:
    """What the day looks like: calendar, hidden local events, recent group visits nearby."""

    day: int
    weekend: bool
    national_sensitive: bool  # a period that concerns every category is on
    sensitive: np.ndarray  # [category] bool, national scope
    county_sensitive: np.ndarray  # [county, category] bool, known local events
    local_events: np.ndarray  # [world, county, family] float multiplier, hidden
    town_groups: np.ndarray  # [world, township, family] decayed count of group visits
    county_groups: np.ndarray  # [world, county, family]


@dataclass
class ContactBatch:
    rows: np.ndarray
    channel: np.ndarray
    level: np.ndarray
    group_size: np.ndarray


@dataclass
class _Today:
    """Each case's drivers today, before anything is drawn."""

    family: np.ndarray
    sensitive: np.ndarray  # a sensitive period concerns the case's category and county
    local: np.ndarray  # hidden local events' multiplier
    overdue: np.ndarray  # days the office's step is late
    rate: np.ndarray  # the contact rate
    tempered: bool  # the world has tempers (the reference world has none)


def _today(cases: Cases, ctx: Context, world: World) -> _Today:
    rates = world.rates
    day = ctx.day
    family = FAMILY_OF_CATEGORY[cases.category]
    sensitive = ctx.sensitive[cases.category] | ctx.county_sensitive[cases.county, cases.category]
    local = ctx.local_events[cases.world, cases.county, family]
    overdue = np.where(
        cases.stage == Stage.ACCEPTED,
        np.clip(day - cases.answer_due_day, 0, 90),
        np.where(
            cases.stage == Stage.REGISTERED, np.clip(day - cases.registered_day - 15, 0, 90), 0
        ),
    )
    rate = (
        rates.contact_base
        * cases.intensity**0.8
        * np.exp(np.minimum(cases.agitation, 4.0))
        * STAGE_RATE[cases.stage]
        * (1.0 + rates.overdue_per_day * overdue)
        * np.where(sensitive, rates.sensitive_contact, 1.0)
        * local
        * np.where(cases.resolved, rates.resolved_contact, 1.0)
        * (rates.weekend if ctx.weekend else 1.0)
    )
    tempered = world.traits.temper_spread > 0
    if tempered:
        rate = rate * cases.temper**TEMPER_ON_CONTACTS
    if _intervened(cases):  # an office's intervention calms the case and the period's pull
        pull = np.where(sensitive, rates.sensitive_contact**-cases.period_calm, 1.0)
        rate = rate * np.exp(-cases.calm) * pull
    return _Today(family, sensitive, local, overdue, rate, tempered)


def _intervened(cases: Cases) -> bool:
    return bool(cases.calm.any() or cases.group_calm.any() or cases.period_calm.any())


def _handling(cases: Cases, rows: np.ndarray, day: int) -> tuple[np.ndarray, np.ndarray]:
    """Whether each of ``rows`` is dissatisfied, and met a leader in the last 90 days."""
    dissatisfied = np.isin(cases.stage[rows], DISSATISFIED_STAGES) | (
        (cases.unsatisfied[rows] > 0) & ~cases.resolved[rows]
    )
    return dissatisfied, day - cases.leader_day[rows] < 90


def _up_logit(
    cases: Cases, rows: np.ndarray, today: _Today, ctx: Context, world: World
) -> np.ndarray:
    """The skip-level logit of a contact by each of ``rows``, without the day's noise and
    the temper (added after it, in the order the reference world draws them)."""
    rates = world.rates
    dissatisfied, leader_recent = _handling(cases, rows, ctx.day)
    return (
        rates.up_intercept
        + rates.up_dissatisfied * dissatisfied
        + rates.up_overdue_per_day * np.minimum(today.overdue[rows], 60)
        + rates.up_transfer * np.minimum(cases.transfers[rows], 4)
        + rates.up_earlier_escalation * np.minimum(cases.escalations[rows], 3)
        + rates.up_sensitive * (ctx.national_sensitive | today.sensitive[rows])
        + rates.up_intensity * np.log(cases.intensity[rows])
        + rates.up_agitation * np.minimum(cases.agitation[rows], 4.0)
        + rates.up_leader * leader_recent
    )


def _group_logit(
    cases: Cases,
    rows: np.ndarray,
    today: _Today,
    ctx: Context,
    world: World,
    up: np.ndarray,
    temper: np.ndarray,
) -> np.ndarray:
    """The group-visit logit of a contact by each of ``rows``, given whether it climbs."""
    rates = world.rates
    dissatisfied, leader_recent = _handling(cases, rows, ctx.day)
    fam = today.family[rows]
    neighbours = (
        ctx.town_groups[cases.world[rows], cases.township[rows], fam]
        + 0.3 * (ctx.county_groups[cases.world[rows], cases.county[rows], fam])
    )
    return (
        rates.group_intercept
        + rates.group_sensitive * today.sensitive[rows]
        + rates.group_neighbours * np.log1p(neighbours)
        + rates.group_agitation * np.minimum(cases.agitation[rows], 4.0)
        + rates.group_dissatisfied * dissatisfied
        + rates.group_leader * leader_recent
        + 0.8 * np.log(today.local[rows])
        + 0.3 * up
        + TEMPER_ON_GROUPS * temper
    )


def _calmed(
    cases: Cases, rows: np.ndarray, today: _Today, ctx: Context, world: World
) -> tuple[np.ndarray, np.ndarray]:
    """What an intervention takes off the skip-level and the group logits of ``rows``."""
    period = cases.period_calm[rows] * (ctx.national_sensitive | today.sensitive[rows])
    up = cases.calm[rows] + world.rates.up_sensitive * period
    group = cases.group_calm[rows] + world.rates.group_sensitive * period
    return up, group


def _shared(cases: Cases, rows: np.ndarray) -> np.ndarray:
    return (cases.people[rows] >= GROUP_THRESHOLD) & (SHARED_INTEREST[cases.category[rows]] > 0)


def daily_hazard(cases: Cases, ctx: Context, world: World) -> tuple[np.ndarray, np.ndarray]:
    """Each case's true chance today of a skip-level contact and of a group visit, from
    its hidden state (the day's logit noise left at its mean): what the oracle's list
    ranks by. Draws nothing."""
    today = _today(cases, ctx, world)
    rows = np.arange(len(cases))
    contact = -np.expm1(-today.rate)
    temper = np.log(cases.temper) if today.tempered else np.zeros(len(cases))
    up_logit = _up_logit(cases, rows, today, ctx, world) + temper
    calm_up, calm_group = _calmed(cases, rows, today, ctx, world)
    up = sigmoid(up_logit - calm_up) * (cases.top_level < NATIONAL)
    group_logit = _group_logit(cases, rows, today, ctx, world, up, temper) - calm_group
    return contact * up, contact * _shared(cases, rows) * sigmoid(group_logit)


def run_petitioners_day(
    cases: Cases, ctx: Context, world: World, rng: np.random.Generator
) -> ContactBatch:
    """Draw today's contacts and update the state they change."""
    rates = world.rates
    day = ctx.day
    today = _today(cases, ctx, world)
    rows = np.flatnonzero(rng.random(len(cases)) < -np.expm1(-today.rate))
    if rows.size == 0:
        return ContactBatch(rows, rows.astype(np.int8), rows.astype(np.int8), rows.astype(np.int32))

    up_logit = _up_logit(cases, rows, today, ctx, world) + rng.normal(
        0.0, world.traits.escalation_noise, rows.size
    )
    temper = np.log(cases.temper[rows]) if today.tempered else np.zeros(rows.size)
    up_logit += temper
    calm_up, calm_group = _calmed(cases, rows, today, ctx, world)
    if _intervened(cases):
        up_logit -= calm_up
    top = cases.top_level[rows].astype(np.int16)
    up = (rng.random(rows.size) < sigmoid(up_logit)) & (top < NATIONAL)
    jump = 1 + (rng.random(rows.size) < 0.15)
    stay_level = np.where(rng.random(rows.size) < 0.5, top, cases.home_level[rows])
    level = np.where(up, np.minimum(top + jump, NATIONAL), stay_level).astype(np.int8)

    group_logit = _group_logit(cases, rows, today, ctx, world, up, temper)
    if _intervened(cases):
        group_logit -= calm_group
    group = _shared(cases, rows) & (rng.random(rows.size) < sigmoid(group_logit))
    turnout = np.clip(rates.group_turnout * rng.uniform(0.6, 1.3, rows.size), 0.05, 1.0)
    crowd = np.maximum(GROUP_THRESHOLD, rng.binomial(cases.people[rows], turnout))
    few = np.minimum(1 + rng.poisson(0.3, rows.size), GROUP_THRESHOLD - 1)
    group_size = np.where(group, crowd, few).astype(np.int32)

    channel_table = np.where(
        group[:, None], _GROUP_CHANNELS, np.where(up[:, None], _SKIP_CHANNELS, _INDIVIDUAL_CHANNELS)
    )
    cumulative = channel_table.cumsum(axis=1)
    channel = (rng.random(rows.size)[:, None] > cumulative).sum(axis=1).astype(np.int8)
    channel = np.minimum(channel, len(CHANNELS) - 1)
    # Letters and online messages are rarely signed by a crowd; a visit is the crowd.
    group_size = np.where(
        (channel != CHANNEL["visit"]) & ~group, np.minimum(group_size, 2), group_size
    )

    _update_after_contacts(cases, ctx, rows, level, up, group, day, world, rng)
    return _with_multiple_submissions(cases, rows, channel, level, group_size, rng)


def _update_after_contacts(
    cases: Cases,
    ctx: Context,
    rows: np.ndarray,
    level: np.ndarray,
    up: np.ndarray,
    group: np.ndarray,
    day: int,
    world: World,
    rng: np.random.Generator,
) -> None:
    cases.agitation[rows] += world.rates.agitation_per_contact
    cases.contacts[rows] += 1
    cases.last_activity_day[rows] = day
    cases.max_contact_level[rows] = np.maximum(cases.max_contact_level[rows], level)
    cases.top_level[rows] = np.maximum(cases.top_level[rows], level)
    climbed = rows[up]
    cases.escalations[climbed] += 1
    # The county answers a skip-level visit with a leader reception, often.
    react = climbed[
        (cases.leader_pending_day[climbed] == NOT_SCHEDULED)
        & (rng.random(climbed.size) < world.rates.leader_after_escalation)
        & (level[up] >= LEVEL["city"])
    ]
    cases.leader_pending_day[react] = day + 2 + rng.geometric(1 / 6, react.size)
    crowds = rows[group]
    family = FAMILY_OF_CATEGORY[cases.category[crowds]]
    np.add.at(ctx.town_groups, (cases.world[crowds], cases.township[crowds], family), 1.0)
    np.add.at(ctx.county_groups, (cases.world[crowds], cases.county[crowds], family), 1.0)


def _with_multiple_submissions(
    cases: Cases,
    rows: np.ndarray,
    channel: np.ndarray,
    level: np.ndarray,
    group_size: np.ndarray,
    rng: np.random.Generator,
) -> ContactBatch:
    """一信多投: an agitated petitioner sends the same letter to several offices."""
    written = (channel == CHANNEL["letter"]) | (channel == CHANNEL["online"])
    copies = written & (cases.agitation[rows] > 1.2) & (rng.random(rows.size) < 0.15)
    extra = rows[copies]
    extra_level = np.minimum(cases.home_level[extra], level[copies]).astype(np.int8)
    cases.contacts[extra] += 1
    return ContactBatch(
        rows=np.concatenate([rows, extra]),
        channel=np.concatenate([channel, channel[copies]]),
        level=np.concatenate([level, extra_level]),
        group_size=np.concatenate([group_size, group_size[copies]]),
    )
