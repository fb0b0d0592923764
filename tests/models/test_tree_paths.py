"""TreeSHAP once per distinct path gives LightGBM's own contributions, for every kind of
split and value LightGBM reads (missing values as NaN or as zero, categories, values on
a threshold), and falls back to LightGBM when a row does not add up."""

from __future__ import annotations

import logging
from typing import Any

import lightgbm as lgb
import numpy as np
import pytest

from earlywarn.models import tree_paths
from earlywarn.models.tree_paths import PathExplainer

COLUMNS = 8
CATEGORY = 5  # a categorical column: codes 0..9


def _train(**params: Any) -> lgb.Booster:
    rng = np.random.default_rng(11)
    x = rng.normal(size=(3000, COLUMNS)) * 2
    x[:, CATEGORY] = rng.integers(0, 10, size=3000)
    x[:, 2] = np.where(rng.random(3000) < 0.3, 0.0, x[:, 2])  # many zeros
    x[rng.random(x.shape) < 0.1] = np.nan
    signal = np.nan_to_num(x[:, 0]) + np.isin(x[:, CATEGORY], [1, 4, 7]) - np.isnan(x[:, 3])
    y = (signal + 0.5 * np.nan_to_num(x[:, 2]) + rng.normal(size=3000)) > 0.7
    data = lgb.Dataset(x, y.astype(float), categorical_feature=[CATEGORY])
    settings = {"objective": "binary", "num_leaves": 15, "verbose": -1, "seed": 2} | params
    return lgb.train(settings, data, num_boost_round=30)


def _thresholds(booster: lgb.Booster) -> list[tuple[int, float]]:
    found: list[tuple[int, float]] = []

    def walk(node: dict[str, Any]) -> None:
        if "leaf_index" in node:
            return
        if node["decision_type"] == "<=":
            found.append((int(node["split_feature"]), float(node["threshold"])))
        walk(node["left_child"])
        walk(node["right_child"])

    for tree in booster.dump_model()["tree_info"]:
        walk(tree["tree_structure"])
    return found


def _hostile_rows(booster: lgb.Booster, count: int = 1500) -> np.ndarray:
    """Rows with NaN, exact zeros, tiny values, negative and huge categories, and
    values exactly on, just below and just above every threshold."""
    rng = np.random.default_rng(7)
    rows = rng.normal(size=(count, COLUMNS)) * 3
    rows[:, CATEGORY] = rng.choice([-3.0, -0.5, 0, 1, 4, 7, 9, 12, 2.0**40, 3.7], size=count)
    rows[rng.random(rows.shape) < 0.15] = np.nan
    rows[rng.random(rows.shape) < 0.1] = 0.0
    rows[rng.random(rows.shape) < 0.03] = 1e-40
    for i, (feature, threshold) in enumerate(_thresholds(booster)):
        for j, value in enumerate(
            (threshold, np.nextafter(threshold, -np.inf), np.nextafter(threshold, np.inf))
        ):
            rows[(3 * i + j) % count, feature] = value
    return rows


@pytest.mark.parametrize(
    "params",
    [
        {},  # missing values as NaN
        {"zero_as_missing": True},  # zero is the missing value
        {"use_missing": False},  # no missing values: NaN reads as 0
        {"num_leaves": 100, "min_data_in_leaf": 5},  # patterns of more than one word
    ],
    ids=["nan", "zero", "none", "wide"],
)
def test_contributions_equal_lightgbms(params: dict[str, Any]) -> None:
    booster = _train(**params)
    rows = _hostile_rows(booster)
    expected = booster.predict(rows, pred_contrib=True)
    found = PathExplainer(booster).contributions(rows, threads=0)
    assert found.shape == expected.shape
    np.testing.assert_allclose(found, expected, rtol=0, atol=1e-12)


def test_no_rows_no_contributions() -> None:
    # A night may flag nothing for a target: LightGBM itself refuses an empty matrix.
    found = PathExplainer(_train()).contributions(np.zeros((0, COLUMNS)), threads=0)
    assert found.shape == (0, COLUMNS + 1)


def test_a_row_gets_the_same_numbers_alone_or_among_others() -> None:
    booster = _train()
    rows = _hostile_rows(booster, 400)
    explainer = PathExplainer(booster)
    together = explainer.contributions(rows, threads=0)
    for row in (0, 17, 399):
        alone = explainer.contributions(rows[row : row + 1], threads=0)
        assert np.array_equal(alone[0], together[row])


def test_a_row_given_the_wrong_path_is_caught_and_lightgbm_answers(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    booster = _train()
    rows = _hostile_rows(booster, 300)
    right = tree_paths._Columns.goes_left

    def root_ignored(self: tree_paths._Columns, split: tree_paths._Split) -> np.ndarray:
        decided = right(self, split)  # every row said to go left at the root: rows that
        return np.ones_like(decided) if split.index == 0 else decided  # differ share one

    monkeypatch.setattr(tree_paths._Columns, "goes_left", root_ignored)
    with caplog.at_level(logging.WARNING, logger=tree_paths.__name__):
        found = PathExplainer(booster).contributions(rows, threads=0)
    assert np.array_equal(found, booster.predict(rows, pred_contrib=True))
    assert "do not add up" in caplog.text
