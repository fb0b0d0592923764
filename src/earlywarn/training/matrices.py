"""The feature matrices of one training run, each built once per vocabulary.

Both targets' models, their Optuna trials, the baselines and the evaluation read the
fit, validation and backtest periods as float matrices (``feature_matrix``), and the
same period with the same vocabularies gives the same matrix: 2 to 3 s each on 50,000
cases, rebuilt for every target and every trial before issue 19. Only the frames given
to ``Matrices`` are kept, recognised by identity (the object, not its contents), and
their matrices are read-only, so no learner can change what the next one reads.
"""

from __future__ import annotations

import json

import numpy as np
import polars as pl

from earlywarn.features.catalogue import FEATURE_NAMES
from earlywarn.models.artifact import feature_matrix


class Matrices:
    def __init__(self, *frames: pl.DataFrame) -> None:
        self._frames = frames
        self._built: dict[tuple[int, str], np.ndarray] = {}

    def of(self, frame: pl.DataFrame, vocab: dict[str, list[str]]) -> np.ndarray:
        """``feature_matrix(frame, FEATURE_NAMES, vocab)``, from the store when ``frame`` is
        one of the run's frames."""
        position = next((i for i, kept in enumerate(self._frames) if kept is frame), None)
        if position is None:
            return feature_matrix(frame, list(FEATURE_NAMES), vocab)
        key = (position, json.dumps(vocab, sort_keys=True))
        if key not in self._built:
            matrix = feature_matrix(frame, list(FEATURE_NAMES), vocab)
            matrix.setflags(write=False)
            self._built[key] = matrix
        return self._built[key]
