"""Score one posted case: the online feature path, the champion models, reasons and steps."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from pathlib import Path

import numpy as np

from earlywarn.contract import Dataset, Mode, load_dataset
from earlywarn.contract.rules import OFFICE_ZONE, TARGETS, office_now, with_office_offset
from earlywarn.contract.spec import FALLBACK_CATEGORY, LEVELS
from earlywarn.features.build import sources_for
from earlywarn.features.online import CaseRows, online_features
from earlywarn.features.online_context import OnlineSources
from earlywarn.models import registry
from earlywarn.models.artifact import RiskModel
from earlywarn.models.check import ModelRejectedError
from earlywarn.models.reasons import Reason, plain_value
from earlywarn.models.registry import LoadedModels
from earlywarn.models.scoring import score_case
from earlywarn.serving.request_checks import RequestRejectedError, check_request
from earlywarn.serving.request_notes import category_code, request_notes
from earlywarn.serving.schemas import (
    CaseIn,
    ScoreRequest,
    ScoreResponse,
    reason_out,
    step_out,
    target_out,
)
from earlywarn.serving.store import utc_now
from earlywarn.settings import Settings

logger = logging.getLogger(__name__)
_LEVEL = {name: i for i, name in enumerate(LEVELS)}
CALENDAR_FROM = dt.datetime(2000, 1, 1)
_EPOCH = dt.datetime(1970, 1, 1)
_MICROSECOND = dt.timedelta(microseconds=1)


# A case with no history: what every candidate model must score before it serves.
WARM_UP = ScoreRequest(
    case=CaseIn(
        case_id="warm-up",
        petitioner_id="warm-up",
        registered_at=dt.datetime(2025, 1, 1),
        county_code="-",
        category="other",
    ),
    contacts=[],
    as_of=dt.datetime(2025, 2, 1),
)


def case_rows(request: ScoreRequest) -> CaseRows:
    """The posted case as arrays for the online path; a category given by its Chinese name
    read as its code, an unknown one as 'other'."""
    case = request.case

    def micros(moments: list[dt.datetime]) -> np.ndarray:
        # Arithmetic on the (naive) datetimes: numpy's conversion of a list of them took
        # five times as long, a tenth of a millisecond for a case of 80 moments.
        return np.array([(m - _EPOCH) // _MICROSECOND for m in moments], dtype=np.int64)

    actions = request.actions
    return CaseRows(
        case_id=case.case_id,
        petitioner_id=case.petitioner_id,
        registered_at=(case.registered_at - _EPOCH) // _MICROSECOND,
        county_code=case.county_code,
        township_code=case.township_code,
        category=category_code(case.category) or FALLBACK_CATEGORY,
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
    """Holds the models and the online sources; swaps the models whole when the alias moves.

    The service follows the registry (``refresh_models``); a test or a tool may hand
    it models directly (``use``).
    """

    def __init__(self, settings: Settings, data: Path | None) -> None:
        self.settings = settings
        self.data = data
        self._models: LoadedModels | None = None
        self._lookup: OnlineSources | None = None
        self._lock = threading.Lock()
        self.ready = False
        self.dataset: Dataset | None = None
        self.refusals: dict[str, dict[str, str | None]] = {}  # per target: the last refused
        self.refusal_count = 0
        self.sources_read: dict[str, str] = {}  # when the context was read, and of which files
        self.context_modified = 0.0  # the newest file's change, seconds since the epoch
        self._files: tuple[tuple[str, int, int], ...] = ()

    def load_sources(self, dataset: Dataset | None = None) -> None:
        """Context and calendar from the dataset the daily list is built on."""
        until = dt.datetime.now() + dt.timedelta(days=731)
        files = self._dataset_files()
        if dataset is None:
            if self.data is None:
                raise ValueError(
                    "the service needs --data: the dataset whose context it scores against"
                )
            dataset = load_dataset(self.data, Mode.LENIENT, self.settings.quarantine_dir(self.data))
        self._lookup = OnlineSources.of(sources_for(dataset, CALENDAR_FROM, until))
        self.dataset = dataset  # the case histories the office page draws
        self._files = files
        newest = max((modified for _, _, modified in files), default=None)
        self.context_modified = newest / 1e9 if newest else 0.0
        modified = dt.datetime.fromtimestamp(newest / 1e9, OFFICE_ZONE) if newest else None
        self.sources_read = {
            "read_at": with_office_offset(office_now().replace(microsecond=0)),
            "files_modified": modified.isoformat(timespec="seconds") if modified else "-",
        }

    def refresh_sources(self) -> bool:
        """Read the context again when the dataset's files changed (the night's import
        merged into them): scores follow the data the day's list was built on, not the
        data of the day the service started. On a failure (a file caught being written)
        the context that serves stays, and the next look tries again."""
        if self.data is None or self._dataset_files() == self._files:
            return False
        self.load_sources()
        logger.info("context read again: the dataset's files changed")
        return True

    def _dataset_files(self) -> tuple[tuple[str, int, int], ...]:
        """Name, size and modification time of the dataset's files, and of the parts of a
        table written in parts (``cases.parquet/part-*``): what tells a change."""
        if self.data is None or not self.data.is_dir():
            return ()
        found = []
        for path in sorted(self.data.iterdir()):
            inside = sorted(path.iterdir()) if path.suffix == ".parquet" and path.is_dir() else []
            for file in [path, *inside]:
                if file.is_file() and not file.name.startswith("."):
                    stat = file.stat()
                    found.append((str(file.relative_to(self.data)), stat.st_size, stat.st_mtime_ns))
        return tuple(found)

    def use(self, models: LoadedModels) -> None:
        with self._lock:
            self._models = models
        logger.info("serving models %s", models.versions)

    def refresh_models(self) -> bool:
        """Load the champions that moved; keep the old model of a target on any failure.

        A candidate is checked before it serves (``models.registry.load``: digest, schema,
        a trial score in a child process) and warmed up on a known case; a refused
        version is remembered with its reason (``refusals``: on ``/ready`` and in
        ``/metrics``) and not tried again until the alias moves to another version.
        """
        try:
            client = registry.connect(self.settings)
            # Asking for the alias is cheap; loading a model is not (and holds the GIL
            # long enough to show in the latency tail), so load only when it moved.
            wanted = {target: registry.champion_version(client, target) for target in TARGETS}
        except Exception:
            logger.exception("the registry cannot be read; the current models keep serving")
            return False
        current = self._models
        for target, version in wanted.items():  # the alias moved back: nothing is refused
            if current is not None and version == current.numbers.get(target):
                self.refusals.pop(target, None)
        moved = {  # no champion yet is nothing to load, not a refusal
            target: version
            for target, version in wanted.items()
            if version is not None
            and (current is None or version != current.numbers.get(target))
            and self.refusals.get(target, {}).get("version") != version
        }
        loaded: dict[str, tuple[RiskModel, str]] = {}
        for target, version in moved.items():
            try:
                loaded[target] = registry.load(target, version)
            except Exception as error:
                self._refuse(target, version, error)
        if not loaded:
            return False
        models = {t: m for t, (m, _) in loaded.items()}
        numbers = {t: v for t, (_, v) in loaded.items()}
        if current is not None:
            models = current.models | models
            numbers = {t: v for t, v in current.numbers.items() if v is not None} | numbers
        if set(models) != set(TARGETS):
            return False  # a first load needs every target
        candidate = registry.loaded(models, numbers)
        try:
            self._warm_up(candidate)
        except Exception as error:
            for target, (_, version) in loaded.items():
                self._refuse(target, version, error)
            return False
        for target in loaded:
            self.refusals.pop(target, None)
        self.use(candidate)
        return True

    def _refuse(self, target: str, version: str | None, error: Exception) -> None:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        logger.error("model %s version %s refused, the current model keeps serving: %s",
                     target, version, reason)  # fmt: skip
        self.refusals[target] = {
            "version": version,
            "reason": reason[:500],
            "at": utc_now().isoformat(timespec="seconds") + "Z",
        }
        self.refusal_count += 1

    def _warm_up(self, models: LoadedModels) -> None:
        lookup = self._lookup
        if lookup is None:
            raise RuntimeError("sources not loaded")
        assert WARM_UP.as_of is not None
        scored = score_case(models, online_features(case_rows(WARM_UP), WARM_UP.as_of, lookup))
        if not all(0.0 <= p <= 1.0 for p in scored.probability.values()):
            raise ModelRejectedError("the warm-up score is not a probability")

    @property
    def sources(self) -> OnlineSources | None:
        return self._lookup

    @property
    def models(self) -> LoadedModels | None:
        """The models serving now (None until loaded)."""
        return self._models

    @property
    def versions(self) -> dict[str, str]:
        return dict(self._models.versions) if self._models else {}

    def _values(self, request: ScoreRequest) -> tuple[LoadedModels, dt.datetime, dict[str, object]]:
        models, lookup = self._models, self._lookup
        if models is None or lookup is None:
            raise RuntimeError("models not loaded")
        as_of = request.as_of or office_now()
        index = lookup.sources.calendar
        last = index.first_day + dt.timedelta(days=index.national.size - 1)
        if not index.first_day <= as_of.date() <= last:
            message = f"is outside the calendar the service knows: {index.first_day} .. {last}"
            raise RequestRejectedError(
                [{"loc": ["body", "as_of"], "msg": message, "type": "value_error"}]
            )
        check_request(request, as_of)
        return models, as_of, online_features(case_rows(request), as_of, lookup)

    def score(self, request: ScoreRequest) -> ScoreResponse:
        models, as_of, values = self._values(request)
        scored = score_case(models, values)
        return ScoreResponse(
            case_id=request.case.case_id,
            as_of=as_of,
            escalation=target_out(scored, "escalation"),
            collective=target_out(scored, "collective"),
            risk_band=scored.risk_band,  # type: ignore[arg-type]
            reasons=[reason_out(r) for r in scored.reasons],
            recommended_steps=[step_out(step) for step in scored.steps],
            model_versions=models.versions,
            notes=request_notes(request, as_of),
        )

    def contributions(self, request: ScoreRequest, top: int = 8) -> dict[str, list[Reason]]:
        """Per target, the features that moved the score most, either way (signed, raw
        score): what the office page draws. Same online path as ``score``."""
        models, _, values = self._values(request)
        drawn: dict[str, list[Reason]] = {}
        for target, model in models.models.items():
            row = model.contributions_of(model.row_matrix(values))[0, :-1]
            order = np.argsort(-np.abs(row), kind="stable")[:top]
            drawn[target] = [
                Reason(
                    model.feature_names[i],
                    plain_value(values[model.feature_names[i]]),
                    float(row[i]),
                )
                for i in order
            ]
        return drawn
