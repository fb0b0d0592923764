"""Scoring, once: probabilities, bands, flags, structured reasons and steps for every path.

The score file, the daily list, the score API and the office page all call
``score_frame`` (a table of cases) or ``score_case`` (one case's feature values);
both run ``_score``, so the same case gets the same probabilities, reasons and steps
whichever way it arrives. Explanations (TreeSHAP) are the costly part: a table
explains the rows a person will read (the medium and high bands, or fewer rows chosen by
the caller: the daily list explains its flagged rows and its capacity), one case always.
Explaining a row alone or among others gives the same reasons: nothing in a row's
explanation depends on the other rows.
"""

from __future__ import annotations

import contextlib
import gc
import json
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from earlywarn.contract.rules import TARGETS
from earlywarn.models.artifact import RiskModel
from earlywarn.models.reasons import Reason, combine, describe_all, plain_value
from earlywarn.models.reference import salience, share_below
from earlywarn.models.registry import LoadedModels
from earlywarn.models.row_values import RowValues, ValuesOf, table_values
from earlywarn.models.sentences import CONTRASTED, RELATED
from earlywarn.models.steps import Step, steps_for

BANDS = ("high", "medium", "low")  # most urgent first
# (probability by target, overall band) -> the rows to explain, as a boolean mask
Chooser = Callable[[dict[str, np.ndarray], np.ndarray], np.ndarray]
CANDIDATES = 6  # strongest contributions per target considered before choosing what to show
WEAKEST_SHARE = 0.1
AHEAD_FROM = 1000  # rows: a table this large explains the next target while reasons are made


@dataclass(frozen=True)
class CaseScore:
    """One case's answer, per target and overall."""

    probability: dict[str, float]
    band: dict[str, str]
    risk_band: str
    reasons_by_target: dict[str, list[Reason]]
    reasons: list[Reason]  # across targets, strongest first
    steps: list[Step]  # from the case's state, for medium and high cases

    def flag(self, target: str) -> bool:
        return self.band[target] == "high"


@dataclass(frozen=True)
class ScoredTable:
    """A table of cases scored: arrays by target, and per row reasons and steps."""

    probability: dict[str, np.ndarray]
    band: dict[str, np.ndarray]
    risk_band: np.ndarray
    reasons_by_target: dict[str, list[list[Reason]]]
    reasons: list[list[Reason]]
    steps: list[list[Step]]

    def case(self, row: int) -> CaseScore:
        return CaseScore(
            probability={t: float(p[row]) for t, p in self.probability.items()},
            band={t: str(b[row]) for t, b in self.band.items()},
            risk_band=str(self.risk_band[row]),
            reasons_by_target={t: r[row] for t, r in self.reasons_by_target.items()},
            reasons=self.reasons[row],
            steps=self.steps[row],
        )


def strongest(
    model: RiskModel, contributions: np.ndarray, top: int = CANDIDATES
) -> list[list[tuple[str, float]]]:
    """Per row of TreeSHAP output (bias last): the top positive features, strongest first,
    leaving out those under a tenth of the row's strongest (too weak to name)."""
    values = contributions[:, :-1]
    order = np.argsort(-values, axis=1, kind="stable")[:, :top]
    chosen = np.take_along_axis(values, order, axis=1)
    names = model.feature_names
    return [
        [
            (names[i], float(v))
            for i, v in zip(row_order, row_values, strict=True)
            if v > 0 and v >= WEAKEST_SHARE * row_values[0]
        ]
        for row_order, row_values in zip(order.tolist(), chosen.tolist(), strict=True)
    ]


def _reason(
    model: RiskModel, values: Mapping[str, Any], feature: str, contribution: float
) -> Reason:
    """A reason with the related values its sentence reads and, for counts, where the
    value stands among the model's reference cases."""
    value = plain_value(values[feature])
    detail = {name: plain_value(values.get(name)) for name in RELATED.get(feature, ())}
    if feature in CONTRASTED:
        share = share_below(model.meta, feature, value)
        if share is not None:
            detail["share_below"] = share
    return Reason(feature, value, contribution, detail, salience(model.meta, feature, contribution))


def overall_band(bands: list[np.ndarray]) -> np.ndarray:
    """The higher band of the targets."""
    high = np.logical_or.reduce([b == "high" for b in bands])
    medium = np.logical_or.reduce([b == "medium" for b in bands])
    return np.where(high, "high", np.where(medium, "medium", "low"))


def banded(
    models: dict[str, RiskModel], matrices: dict[str, np.ndarray], threads: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    """Probabilities and bands per target, and the overall band: each row on its own."""
    return bands_of(models, {t: models[t].raw_of(matrices[t], threads) for t in TARGETS})


def bands_of(
    models: dict[str, RiskModel], raw: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    """``banded`` from the raw scores."""
    probability = {t: models[t].calibrator(raw[t]) for t in TARGETS}
    band = {t: models[t].bands(probability[t]) for t in TARGETS}
    return probability, band, overall_band([band[t] for t in TARGETS])


def _contributions(
    models: dict[str, RiskModel],
    matrices: dict[str, np.ndarray],
    raw: dict[str, np.ndarray],
    explained: dict[str, np.ndarray],
    threads: int,
) -> Iterator[tuple[str, np.ndarray]]:
    """Each target's TreeSHAP of its explained rows, in target order. On every core and
    many rows, the next target's is computed (by LightGBM, without the GIL) while the
    caller turns the previous one into reasons (Python, one core)."""

    def of(target: str) -> np.ndarray:
        rows = explained[target]
        return models[target].contributions_of(matrices[target][rows], threads, raw[target][rows])

    if threads == 1 or sum(r.size for r in explained.values()) < AHEAD_FROM:
        yield from ((t, of(t)) for t in TARGETS)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="treeshap") as pool:
        pending = [(t, pool.submit(of, t)) for t in TARGETS]
        for target, made in pending:
            yield target, made.result()


def _score(
    models: dict[str, RiskModel],
    matrices: dict[str, np.ndarray],
    values_of: ValuesOf,
    threads: int,
    choose: Chooser | None,
) -> ScoredTable:
    """``choose`` None: explain every row for every target (one case on request); else
    explain the chosen rows of the medium and high bands, for the targets that raised them."""
    rows = next(iter(matrices.values())).shape[0]
    raw = {t: models[t].raw_of(matrices[t], threads) for t in TARGETS}
    probability, band, risk_band = bands_of(models, raw)
    explain_all = choose is None
    read = (
        np.ones(rows, dtype=bool)
        if choose is None
        else np.asarray(choose(probability, risk_band), dtype=bool) & (risk_band != "low")
    )
    value_of = values_of(np.flatnonzero(read))
    explained = {
        t: np.flatnonzero(read if explain_all else read & (band[t] != "low")) for t in TARGETS
    }
    by_target: dict[str, list[list[Reason]]] = {}
    for target, contributions in _contributions(models, matrices, raw, explained, threads):
        model = models[target]
        found: list[list[Reason]] = [[] for _ in range(rows)]
        for row, top in zip(
            explained[target].tolist(), strongest(model, contributions), strict=True
        ):
            values = RowValues(value_of, row)
            found[row] = combine([[_reason(model, values, n, c) for n, c in top]])
        by_target[target] = found
    combined: list[list[Reason]] = [[] for _ in range(rows)]
    steps: list[list[Step]] = [[] for _ in range(rows)]
    for row in np.flatnonzero(read).tolist():  # most rows of a table: nothing to read
        # The reasons of the targets that put the case on the list; a low case (explained
        # only on request) shows what pushes it up on either.
        raised = [t for t in TARGETS if band[t][row] != "low"] or list(TARGETS)
        reasons = combine(by_target[t][row] for t in raised)
        combined[row] = reasons
        if risk_band[row] != "low":
            features = [r.feature for r in reasons]
            steps[row] = steps_for(RowValues(value_of, row), features)
    return ScoredTable(probability, band, risk_band, by_target, combined, steps)


def listed(_: dict[str, np.ndarray], risk_band: np.ndarray) -> np.ndarray:
    """The default choice of rows to explain: every row of the medium and high bands."""
    return np.asarray(risk_band != "low")


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """A table's reasons make millions of small objects and no garbage cycle: the cyclic
    collector's passes over them cost as much as the work itself, so it waits."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def model_matrices(models: dict[str, RiskModel], features: pl.DataFrame) -> dict[str, np.ndarray]:
    """Each target's matrix; one for the targets whose models read the same columns alike."""
    built: dict[str, np.ndarray] = {}
    matrices: dict[str, np.ndarray] = {}
    for target in TARGETS:
        model = models[target]
        layout = json.dumps([model.feature_names, model.vocab], sort_keys=True)
        if layout not in built:
            built[layout] = model.matrix(features)
        matrices[target] = built[layout]
    return matrices


def score_frame(
    models: LoadedModels,
    features: pl.DataFrame,
    explain_all: bool = False,
    choose: Chooser = listed,
    threads: int = 0,
) -> ScoredTable:
    """A table of feature rows (the batch path), on every core (``threads`` 0; a cluster's
    task takes one): ``choose`` says which rows of the medium and high bands get reasons
    and steps; ``explain_all`` explains every row."""
    matrices = model_matrices(models.models, features)
    with _no_cycle_collection():
        return _score(
            models.models,
            matrices,
            table_values(features),
            threads,
            None if explain_all else choose,
        )


def score_case(models: LoadedModels, values: dict[str, Any]) -> CaseScore:
    """One case's feature values (the online path), on one thread: OpenMP's start-up
    would cost more than it saves."""
    matrices = {t: models.models[t].row_matrix(values) for t in TARGETS}
    return _score(models.models, matrices, lambda _: lambda _, name: values[name], 1, None).case(0)


def score_table(
    features: pl.DataFrame, models: LoadedModels, scored: ScoredTable | None = None
) -> pl.DataFrame:
    """The score file (contract section 5): one row per case, reasons in words."""
    scored = scored or score_frame(models, features)
    return pl.DataFrame(
        {
            "case_id": features["case_id"],
            "as_of": features["as_of"],
            "escalation_probability": scored.probability["escalation"],
            "collective_probability": scored.probability["collective"],
            "escalation_flag": scored.band["escalation"] == "high",
            "collective_flag": scored.band["collective"] == "high",
            "risk_band": scored.risk_band,
            "reasons": [describe_all(reasons) for reasons in scored.reasons],
            "model_version": [models.version_text] * features.height,
        }
    )
