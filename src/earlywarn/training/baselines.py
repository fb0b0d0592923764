"""What the model must beat, on the same snapshots: the office's rules and two standard learners."""

from __future__ import annotations

import numpy as np
import polars as pl
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from earlywarn.models.artifact import feature_matrix


def office_rule(frame: pl.DataFrame, target: str) -> np.ndarray:
    """Today's rules: 3+ contacts in 90 days (escalation), an earlier group visit (collective).

    The rule's yes/no comes first; the count breaks ties inside each answer.
    """
    if target == "escalation":
        count = frame["contacts_90d"].cast(pl.Float64).to_numpy()
        return (count >= 3).astype(float) + count * 1e-3
    count = frame["group_contacts"].cast(pl.Float64).to_numpy()
    return (count > 0).astype(float) + count * 1e-3


def fit_logistic(x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> object:
    model = make_pipeline(
        SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression(max_iter=300)
    )
    return model.fit(x, y, logisticregression__sample_weight=weights)


def fit_hist_gradient_boosting(
    x: np.ndarray, y: np.ndarray, categorical: list[bool], weights: np.ndarray | None = None
) -> object:
    model = HistGradientBoostingClassifier(
        max_iter=300,
        learning_rate=0.08,
        early_stopping=True,
        categorical_features=np.array(categorical),
        random_state=0,
    )
    return model.fit(x, y, sample_weight=weights)


def baseline_scores(
    fit: pl.DataFrame,
    evaluate: pl.DataFrame,
    target: str,
    names: list[str],
    vocab: dict[str, list[str]],
    weights: np.ndarray | None = None,
    x_fit: np.ndarray | None = None,
    x_eval: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Each baseline's score on ``evaluate``, learnt (where it learns) on ``fit``.

    ``weights``: one per fit row, when ``fit`` is a sample (training/plan.py);
    ``x_fit``, ``x_eval``: the matrices of ``fit`` and ``evaluate`` in ``names`` and
    ``vocab``, when the caller has them.
    """
    if x_fit is None:
        x_fit = feature_matrix(fit, names, vocab)
    if x_eval is None:
        x_eval = feature_matrix(evaluate, names, vocab)
    y_fit = fit[target].cast(pl.Int8).to_numpy()
    # On one thread: scikit-learn's OpenMP threads spin while they wait, and beside any
    # other busy process (the service, a second job) HistGradientBoosting's fit on this
    # machine's two cores took 12 to 32 s instead of 2 to 4 s (its many short parallel
    # steps; scikit-learn issue 30662). On one thread: 2.0 to 4.3 s, busy or not.
    with threadpool_limits(limits=1, user_api="openmp"):
        logistic = fit_logistic(x_fit, y_fit, weights)
        # Codes of the vocabularies are categories to HistGradientBoosting; NaN stays missing.
        boosting = fit_hist_gradient_boosting(x_fit, y_fit, [n in vocab for n in names], weights)
        return {
            "office rule": office_rule(evaluate, target),
            "logistic regression": logistic.predict_proba(x_eval)[:, 1],  # type: ignore[attr-defined]
            "HistGradientBoosting": boosting.predict_proba(x_eval)[:, 1],  # type: ignore[attr-defined]
        }
