"""Fit one target: LightGBM with native categories and monotone rules, isotonic calibration,
an alert threshold for the office's capacity, and optionally an Optuna search."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import average_precision_score

from earlywarn.features.catalogue import FEATURE_NAMES
from earlywarn.models.artifact import Calibrator, RiskModel, feature_matrix, vocabularies
from earlywarn.models.reference import (
    DRIFT_KEY,
    REFERENCE_KEY,
    TYPICAL_KEY,
    drift_reference,
    reference_percentiles,
    typical_contributions,
)
from earlywarn.training.matrices import Matrices
from earlywarn.training.metrics import Capacity, top_k_flags

logger = logging.getLogger(__name__)

# Behaviour the model must show whatever the data say: more of these never lowers risk.
MONOTONE_INCREASING = (
    "unsatisfied_ratings", "answer_overdue_days", "acceptance_overdue_days", "group_contacts",
    "group_contacts_30d", "group_contacts_90d", "contacts_30d", "contacts_90d", "escalation_events",
)  # fmt: skip
MEDIUM_BAND_FACTOR = 5  # medium band: the top of five times the capacity

DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 100,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "max_cat_to_onehot": 8,
    "verbosity": -1,
    "num_threads": 2,
    "seed": 0,
    "deterministic": True,
    "force_row_wise": True,
}


def _datasets(
    fit: pl.DataFrame,
    validation: pl.DataFrame,
    target: str,
    vocab: dict[str, list[str]],
    matrices: Matrices,
) -> tuple[lgb.Dataset, lgb.Dataset]:
    names = list(FEATURE_NAMES)
    categorical = [n for n in names if n in vocab]
    train = lgb.Dataset(
        matrices.of(fit, vocab), fit[target].cast(pl.Int8).to_numpy(),
        feature_name=names, categorical_feature=categorical, free_raw_data=False,
    )  # fmt: skip
    valid = lgb.Dataset(
        matrices.of(validation, vocab),
        validation[target].cast(pl.Int8).to_numpy(),
        reference=train,
    )
    return train, valid


def train_booster(
    fit: pl.DataFrame,
    validation: pl.DataFrame,
    target: str,
    vocab: dict[str, list[str]],
    params: dict[str, Any],
    matrices: Matrices | None = None,
) -> lgb.Booster:
    """``matrices``: the run's feature matrices, when the caller keeps them."""
    train, valid = _datasets(fit, validation, target, vocab, matrices or Matrices())
    constraints = [1 if n in MONOTONE_INCREASING else 0 for n in FEATURE_NAMES]
    merged = (
        DEFAULT_PARAMS
        | params
        | {"monotone_constraints": constraints, "metric": "average_precision"}
    )
    return lgb.train(
        merged, train, num_boost_round=600, valid_sets=[valid],
        callbacks=[lgb.early_stopping(40, verbose=False)],
    )  # fmt: skip


def tune(
    fit: pl.DataFrame,
    validation: pl.DataFrame,
    target: str,
    vocab: dict[str, list[str]],
    trials: int,
    matrices: Matrices | None = None,
) -> dict[str, Any]:
    """A real search: Optuna's TPE over LightGBM's main knobs, scored by validation PR-AUC."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    matrices = matrices or Matrices(fit, validation)  # every trial reads the same two
    x_valid = matrices.of(validation, vocab)
    y_valid = validation[target].cast(pl.Int8).to_numpy()

    def objective(trial: optuna.Trial) -> float:
        params = {
            "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.2, log=True),
            "num_leaves": trial.suggest_int("num_leaves", 8, 128, log=True),
            "min_data_in_leaf": trial.suggest_int("min_data_in_leaf", 20, 500, log=True),
            "feature_fraction": trial.suggest_float("feature_fraction", 0.5, 1.0),
            "lambda_l2": trial.suggest_float("lambda_l2", 1e-3, 10.0, log=True),
        }
        booster = train_booster(fit, validation, target, vocab, params, matrices)
        return float(average_precision_score(y_valid, booster.predict(x_valid, raw_score=True)))

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, n_trials=trials)
    logger.info(
        "%s: best validation PR-AUC %.4f with %s", target, study.best_value, study.best_params
    )
    return dict(study.best_params)


def capacity_threshold(
    validation: pl.DataFrame, probability: np.ndarray, capacity: Capacity, factor: int = 1
) -> float:
    """The probability that fills the capacity on a typical validation day (median over days)."""
    frame = validation.select("as_of").with_columns(pl.Series("p", probability))
    wider = Capacity(capacity.share * factor, capacity.minimum * factor)
    flagged = frame.filter(pl.Series(top_k_flags(frame, "p", wider)))
    lowest = flagged.group_by("as_of").agg(pl.col("p").min())["p"]
    median = lowest.median()
    return float(median) if isinstance(median, int | float) else 1.0


def fit_calibrator(raw: np.ndarray, labels: np.ndarray) -> Calibrator:
    """Isotonic calibration through its blocks' centres, every level strictly inside (0, 1).

    Plain isotonic regression is a staircase: every case whose score falls in one block
    gets the same probability, and on a small office's history a block can hold hundreds
    of cases. A threshold that falls on such a step flags the whole step, several times
    the office's capacity, and the list can no longer tell those cases apart. So the map
    runs straight from each block's centre (its cases' mean score) to the next one's
    (centred isotonic regression): it still never decreases, keeps each block's rate at
    its centre, and tells apart any two cases the model scores differently between the
    first block's centre and the last one's. Each block's rate k/n becomes (k + 1) / (n + 2),
    Laplace's rule: no model is certain, and a small top block says little; a running
    maximum keeps the map non-decreasing, and blocks it makes equal are merged. Stated
    in the model card.
    """
    order = np.argsort(raw, kind="stable")
    scores = np.asarray(raw, dtype=np.float64)[order]
    outcomes = np.asarray(labels, dtype=np.float64)[order]
    fitted = IsotonicRegression(y_min=0.0, y_max=1.0).fit_transform(scores, outcomes)
    starts = np.flatnonzero(np.r_[True, np.diff(fitted) != 0])
    sizes = np.diff(np.r_[starts, scores.size]).astype(np.float64)
    levels = (np.add.reduceat(outcomes, starts) + 1.0) / (sizes + 2.0)
    levels = np.clip(np.maximum.accumulate(levels), 1e-6, 1 - 1e-6)
    sums = np.add.reduceat(scores, starts)
    # Blocks the running maximum (or the clip) made equal become one: one level, one centre.
    merged = np.flatnonzero(np.r_[True, np.diff(levels) != 0])
    centres = np.add.reduceat(sums, merged) / np.add.reduceat(sizes, merged)
    return Calibrator(x=centres.tolist(), y=levels[merged].tolist())


@dataclass
class Calibrated:
    """A booster and its calibration, fitted on one fit set: all a learning-curve point
    needs of a model (no thresholds, no references)."""

    booster: lgb.Booster
    vocab: dict[str, list[str]]
    calibrator: Calibrator
    validation_probability: np.ndarray

    def matrix(self, features: pl.DataFrame) -> np.ndarray:
        return feature_matrix(features, list(FEATURE_NAMES), self.vocab)

    def probability_of(self, matrix: np.ndarray) -> np.ndarray:
        return self.calibrator(np.asarray(self.booster.predict(matrix, raw_score=True)))


def fit_calibrated(
    fit: pl.DataFrame,
    validation: pl.DataFrame,
    target: str,
    params: dict[str, Any] | None = None,
    matrices: Matrices | None = None,
) -> Calibrated:
    """The booster, early-stopped on ``validation``, and its isotonic calibration there."""
    vocab = vocabularies(fit["county_code"].drop_nulls().unique().to_list())
    # One validation matrix for early stopping and calibration (it was built twice).
    matrices = matrices or Matrices(validation)
    x_valid = matrices.of(validation, vocab)
    booster = train_booster(fit, validation, target, vocab, params or {}, matrices)
    raw = np.asarray(booster.predict(x_valid, raw_score=True))
    calibrator = fit_calibrator(raw, validation[target].cast(pl.Int8).to_numpy())
    return Calibrated(booster, vocab, calibrator, calibrator(raw))


def fit_target(
    fit: pl.DataFrame,
    validation: pl.DataFrame,
    target: str,
    capacity: Capacity,
    params: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
    matrices: Matrices | None = None,
) -> RiskModel:
    """The whole model of one target, ready to save."""
    calibrated = fit_calibrated(fit, validation, target, params, matrices)
    booster, vocab, probability = (
        calibrated.booster,
        calibrated.vocab,
        calibrated.validation_probability,
    )
    medium_threshold = capacity_threshold(validation, probability, capacity, MEDIUM_BAND_FACTOR)
    return RiskModel(
        target=target,
        booster=booster,
        feature_names=list(FEATURE_NAMES),
        vocab=vocab,
        calibrator=calibrated.calibrator,
        threshold=capacity_threshold(validation, probability, capacity),
        medium_threshold=medium_threshold,
        meta=(meta or {})
        | {
            "best_iteration": booster.best_iteration,
            "params": DEFAULT_PARAMS | (params or {}),
            REFERENCE_KEY: reference_percentiles(validation, list(FEATURE_NAMES)),
            DRIFT_KEY: drift_reference(validation, list(FEATURE_NAMES)),
            TYPICAL_KEY: _typical_when_listed(
                booster, validation, vocab, probability, medium_threshold
            ),
        },
    )


def _typical_when_listed(
    booster: lgb.Booster,
    validation: pl.DataFrame,
    vocab: dict[str, list[str]],
    probability: np.ndarray,
    medium_threshold: float,
    most: int = 5000,
) -> dict[str, float]:
    """Typical contributions over the validation cases in the medium or high band (a
    seeded sample of at most ``most``): what the reasons of a listed case are set against."""
    listed = np.flatnonzero(probability >= medium_threshold)
    if listed.size > most:
        listed = np.sort(np.random.default_rng(0).choice(listed, most, replace=False))
    matrix = feature_matrix(validation[listed], list(FEATURE_NAMES), vocab)
    contributions = np.asarray(booster.predict(matrix, pred_contrib=True))
    return typical_contributions(contributions, list(FEATURE_NAMES))
