"""One model per target as one artifact: booster, calibration, thresholds, features, labels.

Saved as a directory (``booster.txt`` + ``model.json``) and loaded as a unit;
loading never refits a transform. Categorical features travel as fixed
vocabularies, so a batch with other categories cannot shift the codes, and the
feature order is checked at load and at predict time (LightGBM reads columns by
position, not by name).
"""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl

from earlywarn.contract.rules import ANSWER_CODE, REVIEW_STAGE
from earlywarn.contract.spec import CATEGORIES, CONTRACT_VERSION, NATURES
from earlywarn.features.catalogue import BY_NAME
from earlywarn.models.check import (
    BOOSTER_FILE,
    META_FILE,
    ModelRejectedError,
    booster_problem,
    read_spec,
)
from earlywarn.models.single_row import SingleRow
from earlywarn.models.tree_paths import PathExplainer


def vocabularies(county_codes: list[str]) -> dict[str, list[str]]:
    """Fixed codes of the categorical features; counties are those seen in training."""
    return {
        "category": list(CATEGORIES),
        "nature": list(NATURES),
        "county_code": sorted(county_codes),
        # Ordinal codes, 0 = none yet; as strings, the vocabulary's type.
        "last_answer_outcome": [str(code) for code in range(max(ANSWER_CODE.values()) + 1)],
        "review_stage": [str(code) for code in range(max(REVIEW_STAGE.values()) + 1)],
    }


def feature_matrix(
    features: pl.DataFrame, names: list[str], vocab: dict[str, list[str]]
) -> np.ndarray:
    """Columns in ``names`` order as float64; categories as vocabulary codes, unknown as NaN."""
    missing = [n for n in names if n not in features.columns]
    if missing:
        raise ValueError(f"features missing for the model: {missing}")
    columns = []
    for name in names:
        column = pl.col(name)
        if name in vocab:
            codes = {value: float(i) for i, value in enumerate(vocab[name])}
            column = column.cast(pl.String).replace_strict(
                codes, default=None, return_dtype=pl.Float64
            )
        columns.append(column.cast(pl.Float64).fill_null(np.nan))
    if not columns:
        return np.zeros((features.height, 0))
    # One conversion of the whole frame, row-major as LightGBM reads it.
    return features.select(columns).to_numpy(order="c")


@dataclass
class Calibrator:
    """Isotonic map from raw score to probability, kept as its breakpoints."""

    x: list[float]
    y: list[float]

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        return np.interp(raw, self.x, self.y)


@dataclass
class RiskModel:
    target: str
    booster: lgb.Booster
    feature_names: list[str]
    vocab: dict[str, list[str]]
    calibrator: Calibrator
    threshold: float  # alert: the flag is raised at or above it
    medium_threshold: float  # band medium at or above it
    meta: dict[str, Any] = field(
        default_factory=dict
    )  # horizon, windows, metrics, contract version

    def __getstate__(self) -> dict[str, Any]:
        """The model without its process's helpers (a predictor handle, a lock): a cluster
        ships the model to its executors, which make their own when first used."""
        state = dict(self.__dict__)
        for helper in ("_single_row", "_paths"):
            state.pop(helper, None)
        return state

    def matrix(self, features: pl.DataFrame) -> np.ndarray:
        return feature_matrix(features, self.feature_names, self.vocab)

    def row_matrix(self, values: dict[str, Any]) -> np.ndarray:
        """One case's features (by name) as a 1-row matrix, coded exactly as ``matrix`` codes
        a frame; the online path's way, without building a frame."""
        row = np.full((1, len(self.feature_names)), np.nan)
        for position, name in enumerate(self.feature_names):
            value = values[name]
            if name in self.vocab:
                codes = self.vocab[name]
                text = None if value is None else str(value)
                row[0, position] = codes.index(text) if text in codes else np.nan
            elif value is not None:
                row[0, position] = float(value)
        return row

    # One case at a time (the API) runs on one thread, through LightGBM's single-row
    # path: OpenMP's start-up and a predictor set up per call would cost more than the
    # row. A whole table (the daily list, training) uses every core (0).
    def raw(self, features: pl.DataFrame) -> np.ndarray:
        return self.raw_of(self.matrix(features), threads=0)

    @functools.cached_property
    def _single_row(self) -> SingleRow:
        return SingleRow(self.booster)

    def raw_of(self, matrix: np.ndarray, threads: int = 1) -> np.ndarray:
        if matrix.shape[0] == 1 and threads == 1:
            return self._single_row.raw(matrix)
        return np.asarray(self.booster.predict(matrix, raw_score=True, num_threads=threads))

    def probability(self, features: pl.DataFrame) -> np.ndarray:
        return self.calibrator(self.raw(features))

    def bands(self, probability: np.ndarray) -> np.ndarray:
        """``high`` from the alert threshold, ``medium`` from the medium one, else ``low``."""
        return np.where(
            probability >= self.threshold,
            "high",
            np.where(probability >= self.medium_threshold, "medium", "low"),
        )

    def contributions(self, features: pl.DataFrame) -> np.ndarray:
        """TreeSHAP contributions in raw score per feature (the last column is the bias)."""
        return self.contributions_of(self.matrix(features), threads=0)

    @functools.cached_property
    def _paths(self) -> PathExplainer:
        return PathExplainer(self.booster)

    def contributions_of(
        self, matrix: np.ndarray, threads: int = 1, raw: np.ndarray | None = None
    ) -> np.ndarray:
        """One case (the API) through the single-row path; a table tree by tree, once per
        distinct path (``models.tree_paths``): the same numbers to ~1e-15. ``raw``: the
        rows' raw scores when known (the check of a table's answer needs them)."""
        if matrix.shape[0] == 1 and threads == 1:
            return self._single_row.contributions(matrix)
        return self._paths.contributions(matrix, threads, raw)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(directory / BOOSTER_FILE))
        meta = {
            "target": self.target,
            "feature_names": self.feature_names,
            "vocab": self.vocab,
            "calibrator": asdict(self.calibrator),
            "threshold": self.threshold,
            "medium_threshold": self.medium_threshold,
            "contract_version": CONTRACT_VERSION,
            "labels": {n: [BY_NAME[n].label_zh, BY_NAME[n].label_en] for n in self.feature_names},
            "meta": self.meta,
        }
        (directory / META_FILE).write_text(
            json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8"
        )

    @classmethod
    def load(cls, directory: Path) -> RiskModel:
        """Read a saved artifact. ``model.json`` is checked against its schema here; open a
        booster of unknown origin through ``models.check.check_in_child`` first."""
        spec = read_spec(directory)
        content = (directory / BOOSTER_FILE).read_bytes()
        problem = booster_problem(content)
        if problem is not None:
            raise ModelRejectedError(problem)
        booster = lgb.Booster(model_str=content.decode("utf-8"))
        if booster.feature_name() != spec.feature_names:
            raise ModelRejectedError("the booster's features differ from the saved feature list")
        return cls(
            target=spec.target,
            booster=booster,
            feature_names=spec.feature_names,
            vocab=spec.vocab,
            calibrator=Calibrator(spec.calibrator.x, spec.calibrator.y),
            threshold=spec.threshold,
            medium_threshold=spec.medium_threshold,
            meta=spec.meta,
        )
