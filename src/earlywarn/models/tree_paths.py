"""TreeSHAP for many rows, computed once per distinct way through each tree.

LightGBM's TreeSHAP reads a row only through the decisions it takes at the tree's
split nodes (left or right, at every node, not only those on its own path): two rows
that decide alike at every node of a tree get the same contributions from it, to the
last bit. A list's flagged rows share few such patterns (about one in eight per tree
on a million-case night), so each tree explains one row of each pattern, through
LightGBM itself, and every row takes its pattern's contributions: the same numbers,
several times faster.

The decisions are LightGBM's own rules (``Tree::NumericalDecision`` and
``CategoricalDecision``), read from the booster's JSON dump. Every answer is checked
as it is made: a row's contributions must add up to its own raw score (SHAP's
efficiency property), which they cannot when a row was given a pattern that is not
its own; if any does not, the rows are explained by LightGBM's plain pass instead and
the mismatch is logged.

The trees' contributions are summed tree by tree, where LightGBM adds each path's
share as it goes: the two ways agree to about 1e-15 of a contribution, and the path
way gives a row the same numbers whatever other rows come with it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl

from earlywarn.models.single_row import own_copy

logger = logging.getLogger(__name__)

ZERO = float(np.float32(1e-35))  # kZeroThreshold, a float: values this small read as 0
MISSING_NONE, MISSING_ZERO, MISSING_NAN = "None", "Zero", "NaN"
CATEGORICAL = "categorical"
DUMPED_INFINITY = 1e300  # Common::AvoidInf
SUM_TOLERANCE = 1e-9  # contributions against the raw score: rounding is ~1e-15


@dataclass(frozen=True)
class _Split:
    index: int  # LightGBM's split_index: the bit it sets in a row's pattern
    feature: int
    threshold: float  # numerical splits
    categories: np.ndarray | None  # categorical splits: the categories sent left
    missing: str
    default_left: bool


@dataclass(frozen=True)
class _Tree:
    splits: list[_Split]
    features: np.ndarray  # the columns this tree can contribute to, bias last


def _unbounded(threshold: float) -> float:
    """The dump writes an infinite threshold (a split of missing values from all others)
    as +-1e300; the tree compares with the infinity itself."""
    return threshold if abs(threshold) < DUMPED_INFINITY else np.copysign(np.inf, threshold)


def _splits(node: dict[str, Any], found: list[_Split]) -> None:
    if "leaf_index" in node:
        return
    threshold = node["threshold"]
    categorical = node["decision_type"] == "=="
    found.append(
        _Split(
            index=int(node["split_index"]),
            feature=int(node["split_feature"]),
            threshold=float("nan") if categorical else _unbounded(float(threshold)),
            categories=(
                np.array([int(c) for c in str(threshold).split("||")], dtype=np.int64)
                if categorical
                else None
            ),
            missing=str(node["missing_type"]),
            default_left=bool(node["default_left"]),
        )
    )
    _splits(node["left_child"], found)
    _splits(node["right_child"], found)


class _Columns:
    """The matrix's columns as each kind of split reads them, made once per call: a split
    is then one comparison. A value sent the default way reads as -inf when that way is
    left and as NaN when it is right (NaN <= anything is false, even +inf)."""

    def __init__(self, read: np.ndarray) -> None:
        self.read = np.asfortranarray(read)
        self._made: dict[tuple[int, str, bool], np.ndarray] = {}

    def _make(self, feature: int, missing: str, left: bool) -> np.ndarray:
        column = self.read[:, feature]
        if missing == CATEGORICAL:
            # static_cast<int> truncates; NaN and values past int's range come out
            # negative on the machines LightGBM runs on, and a negative category goes right.
            inside = (column > -(2.0**31)) & (column < 2.0**31)  # False for NaN
            return np.where(inside, column, -1.0).astype(np.int64)
        gone = -np.inf if left else np.nan
        if missing == MISSING_NAN:
            return np.where(np.isnan(column), gone, column) if left else column
        value = np.where(np.isnan(column), 0.0, column)  # NaN reads as 0 unless NaN is missing
        if missing == MISSING_ZERO:  # tiny values are 0 already (``read``)
            return np.where(value == 0.0, gone, value)
        return value

    def goes_left(self, split: _Split) -> np.ndarray:
        """The split's decision for every row, as ``Tree::Decision`` takes it."""
        missing = CATEGORICAL if split.categories is not None else split.missing
        key = (split.feature, missing, split.default_left and missing != MISSING_NONE)
        if key not in self._made:
            self._made[key] = self._make(*key)
        column = self._made[key]
        if split.categories is not None:
            table = np.zeros(int(split.categories.max()) + 2, dtype=bool)  # last: outside
            table[split.categories] = True
            outside = (column < 0) | (column >= table.size - 1)
            return table[np.where(outside, table.size - 1, column)]
        return column <= split.threshold


def _numbered(keys: np.ndarray) -> np.ndarray:
    """Equal keys numbered alike, from 0."""
    return pl.Series(keys).rank("dense").to_numpy().astype(np.int64) - 1


def _patterns(tree: _Tree, columns: _Columns) -> tuple[np.ndarray, np.ndarray]:
    """One row of each pattern of decisions at the tree's splits, and each row's pattern
    (any row of a pattern serves: they all get the same contributions)."""
    rows = columns.read.shape[0]
    words = np.zeros((max(1, -(-len(tree.splits) // 64)), rows), dtype=np.uint64)
    for split in tree.splits:
        word, bit = divmod(split.index, 64)
        words[word] |= columns.goes_left(split).astype(np.uint64) << np.uint64(bit)
    pattern = _numbered(words[0])
    for word in words[1:]:  # patterns of many words (trees of over 65 leaves)
        pattern = _numbered(pattern * (int(pattern.max()) + 1) + _numbered(word))
    first = np.empty(int(pattern.max()) + 1, dtype=np.int64)
    first[pattern] = np.arange(rows)
    return first, pattern


class PathExplainer:
    """Exact TreeSHAP contributions of a binary booster, one LightGBM call per tree."""

    def __init__(self, booster: lgb.Booster) -> None:
        # Its own copy, used under a lock: each tree's call sets the booster's iterations
        # (``single_row.own_copy``), so two tables explained at once, or a score beside
        # them, would read another call's tree.
        self.booster = own_copy(booster)
        self.lock = threading.Lock()
        self.columns = booster.num_feature()
        self.trees: list[_Tree] = []
        for info in booster.dump_model()["tree_info"]:
            found: list[_Split] = []
            _splits(info["tree_structure"], found)
            used = sorted({s.feature for s in found})
            self.trees.append(_Tree(found, np.array([*used, self.columns], dtype=np.intp)))

    def contributions(
        self, matrix: np.ndarray, threads: int, raw: np.ndarray | None = None
    ) -> np.ndarray:
        """As ``Booster.predict(matrix, pred_contrib=True)``: a column per feature, bias last.
        ``raw``: the rows' raw scores, when the caller has them (else predicted here)."""
        rows = matrix.shape[0]
        if rows == 0:  # LightGBM refuses an empty matrix: nothing to explain
            return np.zeros((0, self.columns + 1))
        with self.lock:
            return self._explained(matrix, threads, raw)

    def _explained(self, matrix: np.ndarray, threads: int, raw: np.ndarray | None) -> np.ndarray:
        rows = matrix.shape[0]
        if self.booster.num_model_per_iteration() != 1:
            return self._plain(matrix, threads)
        read = np.where(np.abs(matrix) <= ZERO, 0.0, matrix)  # as LightGBM copies a row
        columns = _Columns(read)
        total = np.zeros((self.columns + 1, rows))  # a row per column: gathers stay contiguous
        for number, tree in enumerate(self.trees):
            first, pattern = _patterns(tree, columns)
            shared = np.asarray(
                self.booster.predict(
                    read[first],
                    pred_contrib=True,
                    start_iteration=number,
                    num_iteration=1,
                    num_threads=threads,
                )
            )
            used = np.ascontiguousarray(shared[:, tree.features].T)
            for column, values in zip(tree.features.tolist(), used, strict=True):
                total[column] += values.take(pattern)
        answer = total.T
        if raw is None:
            raw = np.asarray(self.booster.predict(matrix, raw_score=True, num_threads=threads))
        if not self._adds_up(matrix, answer, raw):
            return self._plain(matrix, threads)
        return np.ascontiguousarray(answer)

    def _adds_up(self, matrix: np.ndarray, answer: np.ndarray, raw: np.ndarray) -> bool:
        gap = np.abs(answer.sum(axis=1) - raw)
        off = gap > SUM_TOLERANCE * np.maximum(1.0, np.abs(raw))
        if not off.any():
            return True
        logger.warning(
            "path TreeSHAP: %d of %d rows do not add up to their score (largest gap %.3g); "
            "explained by LightGBM's plain pass",
            int(np.count_nonzero(off)),
            matrix.shape[0],
            float(gap.max()),
        )
        return False

    def _plain(self, matrix: np.ndarray, threads: int) -> np.ndarray:
        return np.asarray(self.booster.predict(matrix, pred_contrib=True, num_threads=threads))
