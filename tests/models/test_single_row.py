"""LightGBM's single-row path gives the batch path's numbers, bit for bit, from any thread."""

from __future__ import annotations

import pickle
import threading

import lightgbm as lgb
import numpy as np
import pytest

from earlywarn.models.artifact import Calibrator, RiskModel
from earlywarn.models.single_row import SingleRow
from earlywarn.models.tree_paths import PathExplainer


@pytest.fixture(scope="module")
def booster() -> lgb.Booster:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2000, 12))
    x[rng.random(x.shape) < 0.1] = np.nan
    y = np.nan_to_num(x[:, 0]) + 0.5 * np.nan_to_num(x[:, 3]) + rng.normal(size=2000) > 0.8
    data = lgb.Dataset(x, y.astype(float))
    params = {"objective": "binary", "num_leaves": 15, "verbose": -1, "seed": 1}
    return lgb.train(params, data, num_boost_round=40)


def _rows(count: int) -> np.ndarray:
    rng = np.random.default_rng(5)
    rows = rng.normal(size=(count, 12)) * 3
    rows[rng.random(rows.shape) < 0.2] = np.nan
    return rows


def test_raw_scores_and_contributions_equal_the_batch_paths(booster: lgb.Booster) -> None:
    single = SingleRow(booster)
    for row in _rows(300):
        one = row.reshape(1, -1)
        assert np.array_equal(single.raw(one), booster.predict(one, raw_score=True))
        assert np.array_equal(single.contributions(one), booster.predict(one, pred_contrib=True))


def test_threads_share_it_safely_and_a_wrong_row_is_refused(booster: lgb.Booster) -> None:
    single = SingleRow(booster)
    rows = _rows(200)
    expected = booster.predict(rows, pred_contrib=True, num_threads=1)
    wrong: list[int] = []

    def work() -> None:
        for number, row in enumerate(rows):
            if not np.array_equal(single.contributions(row.reshape(1, -1))[0], expected[number]):
                wrong.append(number)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not wrong
    with pytest.raises(ValueError, match="a row of 11 values for a model of 12"):
        single.raw(np.zeros((1, 11)))


def test_no_other_prediction_changes_its_answers(booster: lgb.Booster) -> None:
    """LightGBM keeps a prediction's iterations in the booster: one tree's call, by the
    table explainer or anyone, once made every later single-row score use one tree."""
    single = SingleRow(booster)
    rows = _rows(50)
    expected = booster.predict(rows, raw_score=True)
    PathExplainer(booster).contributions(rows, threads=1)  # one LightGBM call per tree
    booster.predict(rows, raw_score=True, start_iteration=5, num_iteration=1)
    got = np.array([single.raw(row.reshape(1, -1))[0] for row in rows])
    assert np.array_equal(got, expected)


def test_a_model_that_has_scored_still_travels_to_a_cluster(booster: lgb.Booster) -> None:
    """Spark pickles the models it broadcasts: the helpers made in this process (a
    predictor handle, a lock) stay here, and the copy makes its own."""
    model = RiskModel("escalation", booster, [f"f{i}" for i in range(12)], {},
                      Calibrator([0.0, 1.0], [0.0, 1.0]), 0.5, 0.2)  # fmt: skip
    rows = _rows(20)
    expected = model.contributions_of(rows, threads=1)  # the table explainer, made here
    one = model.raw_of(rows[:1])  # the single-row path, made here
    travelled = pickle.loads(pickle.dumps(model))
    assert np.array_equal(travelled.contributions_of(rows, threads=1), expected)
    assert np.array_equal(travelled.raw_of(rows[:1]), one)
