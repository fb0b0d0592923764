"""The value study: policies side by side on the same simulated worlds.

For each seed one world is simulated up to the study's first morning; earlywarn's
models are fitted on that history; then every policy runs the same months from the
same state with common random numbers (``office.py``). What each prevented is the
no-list run's count minus its own, seed by seed.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from earlywarn.models.capacity import Capacity
from earlywarn.models.registry import LoadedModels
from earlywarn.simulator.interventions import Effects
from earlywarn.simulator.run import History, SimulationConfig
from earlywarn.value.earlywarn_list import EarlywarnList, fit_models, morning_dataset
from earlywarn.value.office import OfficeRun, Policy
from earlywarn.value.policies import NoList, OfficeRule, OracleList, RandomK

logger = logging.getLogger(__name__)
Progress = Callable[[str], None]

NO_LIST = "no list"
OFFICE_RULE = OfficeRule.name
EARLYWARN = "earlywarn"
NAIVE = "earlywarn, retrained naively"
USUAL_STEPS = "earlywarn's list, the office's usual steps"  # the ranking apart from the steps
POLICIES = (OFFICE_RULE, "random K", EARLYWARN, "oracle", NAIVE, USUAL_STEPS)
EARLYWARN_POLICIES = (EARLYWARN, NAIVE, USUAL_STEPS)
DEFAULT_POLICIES = POLICIES[:4]
SINGLE_THREADED = ("POLARS_MAX_THREADS", "OMP_NUM_THREADS")
MIN_HISTORY_DAYS = 450  # warm-up, fit, validation and backtest periods, and their horizons


@dataclass(frozen=True)
class StudyConfig:
    """What to compare. The defaults are the documented configuration (docs/value.md)."""

    cases: int = 20_000  # registered over the whole simulated period
    start: dt.date = dt.date(2023, 1, 1)
    first_day: dt.date = dt.date(2025, 1, 1)  # the first morning with a list
    months: int = 6
    seeds: tuple[int, ...] = (1, 2, 3, 4, 5)
    effect_scales: tuple[float, ...] = (1.0,)
    capacity_shares: tuple[float, ...] = (0.02,)
    capacity_minimum: int = 50
    cooldown_days: int = 30  # a case acted on is not acted on again for this long
    retrain_every_days: int | None = None  # earlywarn's models: None, fitted once
    policies: tuple[str, ...] = DEFAULT_POLICIES
    family_seed: int | None = None  # a world of the family; None: the reference world
    effects: Effects = field(default_factory=Effects)  # sizes at scale 1

    def __post_init__(self) -> None:
        unknown = set(self.policies) - set(POLICIES)
        if unknown:
            raise ValueError(f"unknown policies {sorted(unknown)}; known: {list(POLICIES)}")
        if (self.first_day - self.start).days < MIN_HISTORY_DAYS:
            raise ValueError(
                f"the first list day {self.first_day} must come at least {MIN_HISTORY_DAYS} "
                f"days after the history's start {self.start}: earlywarn's models are fitted, "
                "validated and backtested on that history"
            )
        if self.months < 1 or not self.seeds:
            raise ValueError("the study needs at least one month and one seed")

    @property
    def last_day(self) -> dt.date:
        month = self.first_day.month - 1 + self.months
        year = self.first_day.year + month // 12
        return dt.date(year, month % 12 + 1, 1) - dt.timedelta(days=1)

    def described(self) -> dict[str, Any]:
        plain = asdict(self)
        return {k: str(v) if isinstance(v, dt.date) else v for k, v in plain.items()}


@dataclass
class Row:
    """One policy's run on one world."""

    seed: int
    policy: str
    effect_scale: float
    capacity_share: float
    escalations: int
    collective: int
    actions: int
    took: int
    seconds: float


def _policy(name: str, config: StudyConfig, fitted: LoadedModels | None) -> Policy:
    if name in EARLYWARN_POLICIES:
        assert fitted is not None
        retrain = config.retrain_every_days
        return EarlywarnList(
            fitted, name, retrain, leave_out_treated=name != NAIVE, own_steps=name != USUAL_STEPS
        )
    if name == OFFICE_RULE:
        return OfficeRule()
    return RandomK() if name == "random K" else OracleList()


def run_seed(config: StudyConfig, seed: int, progress: Progress | None = None) -> list[Row]:
    """Every policy of the study on the world of ``seed``."""
    simulation = SimulationConfig(
        cases=config.cases, start=config.start, end=config.last_day, seed=seed,
        family_seed=config.family_seed, common_days_from=config.first_day,
    )  # fmt: skip
    history = History(simulation)
    first = (config.first_day - config.start).days
    last = (config.last_day - config.start).days
    while history.day < first:
        history.run_day()
    say = progress or (lambda _: None)
    say(f"seed {seed}: history to {config.first_day} simulated")
    fitted = None
    if set(config.policies) & set(EARLYWARN_POLICIES):  # once per world, before any list
        dataset, as_of = morning_dataset(history)
        capacity = Capacity(config.capacity_shares[0], config.capacity_minimum)
        fitted = fit_models(dataset, as_of, capacity, None)
        say(f"seed {seed}: earlywarn's models fitted on the history before {as_of:%Y-%m-%d}")
    rows: list[Row] = []

    def run(policy: Policy, scale: float, share: float) -> None:
        started = time.perf_counter()
        effects = Effects(**{**asdict(config.effects), "scale": scale})
        capacity = Capacity(share, config.capacity_minimum)
        office = OfficeRun(
            copy.deepcopy(history), policy, effects, capacity, config.cooldown_days, seed
        )
        office.run_until(last)
        out = office.outcomes(first, last)
        seconds = time.perf_counter() - started
        rows.append(Row(seed, policy.name, scale, share, out.escalations, out.collective,
                        out.actions, out.took, seconds))  # fmt: skip
        say(
            f"seed {seed}: {policy.name} (effects x{scale}, capacity {share:.1%}): "
            f"{out.escalations} skip-level contacts, {out.collective} collective visits, "
            f"{out.actions} cases acted on, {seconds:.0f} s"
        )

    run(NoList(), 0.0, 0.0)
    for scale in config.effect_scales:
        for share in config.capacity_shares:
            for name in config.policies:
                run(_policy(name, config, fitted), scale, share)
    return rows


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _seed_rows(config: StudyConfig, seed: int) -> list[Row]:
    return run_seed(config, seed, _say)


def run_study(config: StudyConfig, workers: int = 1, progress: Progress | None = None) -> list[Row]:
    """Every seed's world, ``workers`` at a time (each a process of its own; the seeds'
    rows come back in seed order whatever finishes first)."""
    if workers <= 1 or len(config.seeds) == 1:
        return [row for seed in config.seeds for row in run_seed(config, seed, progress)]
    # One thread per process for Polars and LightGBM's OpenMP: two processes whose
    # OpenMP threads spin for the same cores slow each other down several times over.
    saved = {name: os.environ.get(name) for name in SINGLE_THREADED}
    os.environ.update(dict.fromkeys(SINGLE_THREADED, "1"))
    try:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(min(workers, len(config.seeds)), mp_context=context) as pool:
            results = list(pool.map(_seed_rows, [config] * len(config.seeds), config.seeds))
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return [row for rows in results for row in rows]
