"""Score one posted case: the online feature path, the champion models, reasons and steps."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from earlywarn.contract import Dataset, Mode, load_dataset
from earlywarn.contract.spec import CATEGORIES, FALLBACK_CATEGORY, LEVELS
from earlywarn.features.build import sources_for
from earlywarn.features.catalogue import BY_NAME
from earlywarn.features.online import CaseRows, OnlineSources, online_features
from earlywarn.models.artifact import TARGETS, RiskModel
from earlywarn.models.scoring import strongest
from earlywarn.serving.schemas import (
    Reason,
    ScoreRequest,
    ScoreResponse,
    Step,
    TargetScore,
    office_now,
)
from earlywarn.serving.steps import STEPS, steps_for
from earlywarn.settings import Settings
from earlywarn.training import registry

logger = logging.getLogger(__name__)
Band = Literal["high", "medium", "low"]
_LEVEL = {name: i for i, name in enumerate(LEVELS)}
CALENDAR_FROM = dt.datetime(2000, 1, 1)


class OutOfRangeError(ValueError):
    """A moment the service cannot score (outside its calendar)."""


@dataclass(frozen=True)
class LoadedModels:
    models: dict[str, RiskModel]
    versions: dict[str, str]  # "registered name/number", as answered
    numbers: dict[str, str | None]  # the registry's version numbers, to notice a move


def case_rows(request: ScoreRequest) -> CaseRows:
    """The posted case as arrays for the online path; unknown categories read as 'other'."""
    case = request.case

    def micros(moments: list[dt.datetime]) -> np.ndarray:
        return np.array(moments, dtype="datetime64[us]").astype(np.int64)

    actions = request.actions
    return CaseRows(
        case_id=case.case_id,
        petitioner_id=case.petitioner_id,
        registered_at=int(np.datetime64(case.registered_at, "us").astype(np.int64)),
        county_code=case.county_code,
        township_code=case.township_code,
        category=case.category if case.category in CATEGORIES else FALLBACK_CATEGORY,
        nature=case.nature,
        responsible_unit=case.responsible_unit,
        contact_at=micros([c.occurred_at for c in request.contacts]),
        level=np.array([_LEVEL[c.level] for c in request.contacts], dtype=np.int64),
        channel=np.array([c.channel for c in request.contacts], dtype=object),
        group_size=np.array([c.group_size for c in request.contacts], dtype=np.int64),
        action_at=None if actions is None else micros([a.occurred_at for a in actions]),
        action_type=None
        if actions is None
        else np.array([a.action_type for a in actions], dtype=object),
        unit=None if actions is None else np.array([a.unit for a in actions], dtype=object),
        outcome=None if actions is None else np.array([a.outcome for a in actions], dtype=object),
    )


class Scorer:
    """Holds the champions and the online sources; swaps them whole when the alias moves."""

    def __init__(self, settings: Settings, data: Path | None) -> None:
        self.settings = settings
        self.data = data
        self._models: LoadedModels | None = None
        self._lookup: OnlineSources | None = None
        self._lock = threading.Lock()
        self.ready = False
        self.dataset: Dataset | None = None

    def load_sources(self) -> None:
        """Context and calendar from the dataset the daily list is built on."""
        until = dt.datetime.now() + dt.timedelta(days=731)
        if self.data is None:
            raise ValueError(
                "the service needs --data: the dataset whose context it scores against"
            )
        dataset = load_dataset(self.data, Mode.LENIENT, self.settings.quarantine_dir(self.data))
        self._lookup = OnlineSources.of(sources_for(dataset, CALENDAR_FROM, until))
        self.dataset = dataset  # the case histories the office page draws

    def refresh_models(self) -> bool:
        """Load the champions when they changed; on failure keep serving the old ones."""
        client = registry.connect(self.settings)
        try:
            # Asking for the alias is cheap; loading a model is not (and holds the GIL
            # long enough to show in the latency tail), so load only when it moved.
            wanted = {target: registry.champion_version(client, target) for target in TARGETS}
            if self._models is not None and wanted == self._models.numbers:
                return False
            loaded = {target: registry.load(target, wanted[target]) for target in TARGETS}
        except Exception:
            logger.exception("loading the champion models failed; the previous models keep serving")
            return False
        versions = {t: f"{registry.model_name(t)}/{v}" for t, (_, v) in loaded.items()}
        candidate = LoadedModels(
            {t: m for t, (m, _) in loaded.items()}, versions, {t: v for t, (_, v) in loaded.items()}
        )
        with self._lock:
            self._models = candidate
        logger.info("serving models %s", versions)
        return True

    @property
    def sources(self) -> OnlineSources | None:
        return self._lookup

    @property
    def versions(self) -> dict[str, str]:
        return dict(self._models.versions) if self._models else {}

    def score(self, request: ScoreRequest) -> ScoreResponse:
        models, lookup = self._models, self._lookup
        if models is None or lookup is None:
            raise RuntimeError("models not loaded")
        as_of = request.as_of or office_now()
        index = lookup.sources.calendar
        last = index.first_day + dt.timedelta(days=index.national.size - 1)
        if not index.first_day <= as_of.date() <= last:
            raise OutOfRangeError(
                f"field as_of: {as_of:%Y-%m-%d} is outside {index.first_day} .. {last}"
            )
        values = online_features(case_rows(request), as_of, lookup)
        results: dict[str, TargetScore] = {}
        reason_features: list[tuple[str, float]] = []
        for target, model in models.models.items():
            matrix = model.row_matrix(values)
            probability = model.calibrator(model.raw_of(matrix))
            band: Band = model.bands(probability)[0]
            (top,) = strongest(model, model.contributions_of(matrix))
            reasons = [self._reason(name, values, contribution) for name, contribution in top]
            reason_features += [(r.feature, r.contribution) for r in reasons]
            results[target] = TargetScore(
                probability=float(probability[0]), flag=band == "high", band=band, reasons=reasons
            )
        bands = [results[t].band for t in TARGETS]
        overall = "high" if "high" in bands else "medium" if "medium" in bands else "low"
        ranked = [name for name, _ in sorted(reason_features, key=lambda item: -item[1])]
        steps = (
            [Step(key=key, zh=STEPS[key][0], en=STEPS[key][1]) for key in steps_for(ranked)]
            if overall != "low"
            else []
        )
        return ScoreResponse(
            case_id=request.case.case_id,
            as_of=as_of,
            escalation=results["escalation"],
            collective=results["collective"],
            risk_band=overall,  # type: ignore[arg-type]
            recommended_steps=steps,
            model_versions=models.versions,
        )

    def contributions(self, request: ScoreRequest, top: int = 8) -> dict[str, list[Reason]]:
        """Per target, the features that moved the score most, either way (signed, raw
        score): what the office page draws. Same online path as ``score``."""
        models, lookup = self._models, self._lookup
        if models is None or lookup is None:
            raise RuntimeError("models not loaded")
        as_of = request.as_of or office_now()
        values = online_features(case_rows(request), as_of, lookup)
        drawn: dict[str, list[Reason]] = {}
        for target, model in models.models.items():
            row = model.contributions_of(model.row_matrix(values))[0, :-1]
            order = np.argsort(-np.abs(row), kind="stable")[:top]
            drawn[target] = [
                self._reason(model.feature_names[i], values, float(row[i])) for i in order
            ]
        return drawn

    @staticmethod
    def _reason(name: str, values: dict[str, object], contribution: float) -> Reason:
        spec = BY_NAME[name]
        value = values[name]
        shown: float | str | None = (
            value if isinstance(value, int | float | str) or value is None else str(value)
        )
        return Reason(
            feature=name,
            label_zh=spec.label_zh,
            label_en=spec.label_en,
            value=shown,
            contribution=contribution,
        )
