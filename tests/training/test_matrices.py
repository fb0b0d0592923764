"""A run's feature matrices: built once per frame and vocabulary, read-only, the same values."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from earlywarn.contract import load_dataset
from earlywarn.features.build import build_features
from earlywarn.features.catalogue import FEATURE_NAMES
from earlywarn.models.artifact import feature_matrix, vocabularies
from earlywarn.resources import sample_dataset
from earlywarn.training.matrices import Matrices


def test_a_kept_frame_is_built_once_read_only_and_the_same() -> None:
    frame = build_features(load_dataset(sample_dataset()), [dt.datetime(2025, 11, 1)])
    vocab = vocabularies(frame["county_code"].drop_nulls().unique().to_list())
    narrower = vocabularies(frame["county_code"].drop_nulls().unique().sort().to_list()[:1])
    matrices = Matrices(frame)
    first = matrices.of(frame, vocab)
    assert matrices.of(frame, vocab) is first  # built once
    assert np.array_equal(first, feature_matrix(frame, list(FEATURE_NAMES), vocab), equal_nan=True)
    with pytest.raises(ValueError, match="read-only"):
        first[0, 0] = 1.0
    assert matrices.of(frame, narrower) is not first  # another vocabulary, another matrix
    copy = frame.clone()  # equal contents, another frame: not kept
    assert matrices.of(copy, vocab) is not matrices.of(copy, vocab)
