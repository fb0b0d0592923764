"""earlywarn's own daily list inside the value study: the product's features, models,
reasons and steps, on the simulated office's tables as they stand each morning.

Models are fitted as ``earlywarn train`` fits them (snapshots, time split, one
calibrated LightGBM per target), without the evaluation and the registry, which the
study does not need. Retraining, when asked, happens on the morning it is due, on the
history so far: naively, or leaving out the outcomes the office's own actions touched
(``training.snapshots.without_treated``, docs/treatment.md).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import numpy as np
import polars as pl

from earlywarn.contract.loader import Dataset, trusted_dataset
from earlywarn.contract.rules import TARGETS
from earlywarn.contract.spec import CONTRACT_VERSION
from earlywarn.features.build import build_features
from earlywarn.models.capacity import Capacity
from earlywarn.models.registry import LoadedModels, loaded
from earlywarn.models.scoring import score_frame
from earlywarn.models.steps import FALLBACK
from earlywarn.serving.day_scores import reading_order
from earlywarn.simulator.interventions import usual_steps
from earlywarn.simulator.run import History
from earlywarn.training.fit import fit_target
from earlywarn.training.matrices import Matrices
from earlywarn.training.snapshots import SnapshotSettings, snapshot_split
from earlywarn.value.office import OfficeRun
from earlywarn.value.tables import MorningTables

logger = logging.getLogger(__name__)


def fit_models(
    dataset: Dataset, until: dt.datetime, capacity: Capacity, treated: pl.DataFrame | None
) -> LoadedModels:
    """Both targets' calibrated models on the history before ``until``."""
    settings = SnapshotSettings()
    split = snapshot_split(dataset, until, settings, treated).split
    matrices = Matrices(split.fit, split.validation, split.backtest)
    meta = {
        "horizon_days": settings.horizon_days,
        "group_threshold": settings.group_threshold,
        "windows": split.windows(),
        "contract_version": CONTRACT_VERSION,
    }
    models = {
        target: fit_target(split.fit, split.validation, target, capacity, {}, meta, matrices)
        for target in TARGETS
    }
    return loaded(models, {target: f"study-{until:%Y%m%d}" for target in TARGETS})


def morning_dataset(history: History) -> tuple[Dataset, dt.datetime]:
    """The office's tables this morning, and the list's as-of moment (midnight)."""
    dataset = trusted_dataset(Path("simulated"), history.tables(), history.known_events)
    return dataset, dt.datetime.combine(history.timeline.date(history.day), dt.time())


class EarlywarnList:
    """Top K of earlywarn's daily list, acted on with the steps it recommends (or, to
    measure the list apart from its steps, with the office's usual ones)."""

    def __init__(
        self,
        models: LoadedModels,
        name: str = "earlywarn",
        retrain_every_days: int | None = None,
        leave_out_treated: bool = True,
        own_steps: bool = True,
    ) -> None:
        self.name = name
        self.own_steps = own_steps  # False: the office's usual steps (the list apart)
        self.models = models
        self.retrain_every_days = retrain_every_days
        self.leave_out_treated = leave_out_treated
        self._steps: dict[int, list[str]] = {}
        self._mornings = 0
        self._tables: MorningTables | None = None  # this run's, made on its first morning

    def listed(self, run: OfficeRun, rows: np.ndarray, k: int) -> np.ndarray:
        live = run.history.live
        assert live is not None
        if self._tables is None:
            self._tables = MorningTables(run.history, run.seed)
        dataset = self._tables.dataset()
        as_of = dt.datetime.combine(run.history.timeline.date(run.day), dt.time())
        every = self.retrain_every_days
        if every and self._mornings and self._mornings % every == 0:
            treated = run.treated() if self.leave_out_treated else None
            self.models = fit_models(dataset, as_of, run.capacity, treated)
            logger.info("%s: retrained on %s", self.name, as_of.date())
        self._mornings += 1
        features = build_features(dataset, [as_of])
        orders: list[np.ndarray] = []

        def first_k(probability: dict[str, np.ndarray], band: np.ndarray) -> np.ndarray:
            ids = features["case_id"]
            orders.append(reading_order(self.models.models, probability, band, ids)[:k])
            chosen = np.zeros(band.size, dtype=bool)
            chosen[orders[0]] = True
            return chosen

        scored = score_frame(self.models, features, choose=first_k)
        order = orders[0]
        numbers = features["case_id"].str.slice(1).cast(pl.Int64).to_numpy()[order]
        position = np.searchsorted(live.case_number, numbers)
        position = np.minimum(position, len(live) - 1)
        alive = live.case_number[position] == numbers  # a case the simulation forgot: gone
        self._steps = {
            int(row): [step.key for step in scored.steps[index]] or [FALLBACK]
            for row, index in zip(position[alive], order[alive], strict=True)
        }
        return np.asarray(position[alive], dtype=np.int64)

    def steps(self, run: OfficeRun, rows: np.ndarray) -> list[list[str]]:
        if not self.own_steps:
            live = run.history.live
            assert live is not None
            return usual_steps(live, rows, run.day, run.history.timeline)
        return [self._steps[int(row)] for row in rows]
