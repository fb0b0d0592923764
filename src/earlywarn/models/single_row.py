"""One case's raw score and contributions through LightGBM's single-row fast path.

``Booster.predict`` sets up a predictor for every call (parameters parsed, buffers
made): about a fifth of a millisecond, more than scoring one row costs. LightGBM's C
API keeps that setup for repeated single rows (``LGBM_BoosterPredictForMatSingleRowFast``
after ``...FastInit``), the path its own C++ and Java users take for online scoring;
the Python package does not wrap it, so this module does, through the package's own
loaded library. The same predictor code runs, so the numbers are the batch path's
(a test holds them equal).

A prepared configuration is used by one thread at a time (a lock each): the service
scores in a thread pool, and one row takes microseconds.
"""

from __future__ import annotations

import ctypes
import threading
import weakref

import lightgbm as lgb
import numpy as np
from lightgbm.basic import _LIB, _safe_call  # type: ignore[attr-defined]  # the loaded library

RAW_SCORE = 1  # C_API_PREDICT_RAW_SCORE
CONTRIB = 3  # C_API_PREDICT_CONTRIB
_FLOAT64 = 1  # C_API_DTYPE_FLOAT64


class _Prepared:
    """A predictor of one kind for one booster, set up once."""

    def __init__(self, booster: lgb.Booster, kind: int, columns: int) -> None:
        self.columns = columns
        self.width = columns + 1 if kind == CONTRIB else 1  # contributions: bias last
        self.handle = ctypes.c_void_p()
        self.lock = threading.Lock()
        _safe_call(
            _LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
                booster._handle,
                ctypes.c_int(kind),
                ctypes.c_int(0),  # from the first iteration
                ctypes.c_int(-1),  # to the last (the booster keeps its best)
                ctypes.c_int(_FLOAT64),
                ctypes.c_int32(columns),
                ctypes.c_char_p(b"num_threads=1"),
                ctypes.byref(self.handle),
            )
        )
        # Freed with this object; the booster lives at least as long (``SingleRow`` holds it).
        weakref.finalize(self, _LIB.LGBM_FastConfigFree, self.handle)

    def __call__(self, row: np.ndarray) -> np.ndarray:
        values = np.ascontiguousarray(row, dtype=np.float64).reshape(-1)
        if values.size != self.columns:
            raise ValueError(f"a row of {values.size} values for a model of {self.columns}")
        out = np.empty(self.width, dtype=np.float64)
        written = ctypes.c_int64(0)
        with self.lock:
            _safe_call(
                _LIB.LGBM_BoosterPredictForMatSingleRowFast(
                    self.handle,
                    values.ctypes.data_as(ctypes.c_void_p),
                    ctypes.byref(written),
                    out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
                )
            )
        if written.value != self.width:
            raise RuntimeError(f"LightGBM wrote {written.value} values, not {self.width}")
        return out.reshape(1, -1)


def own_copy(booster: lgb.Booster) -> lgb.Booster:
    """A booster of the same trees that no other caller predicts with.

    LightGBM keeps the iterations a prediction uses in the booster itself: a
    ``predict(start_iteration=..., num_iteration=...)`` sets them for every later
    prediction that does not set them again, and the single-row fast path never does. A
    one-tree call of the table explainer made every later API score use one tree, until a
    plain ``predict`` put them back. Each of those users therefore gets a copy of its own
    (the model's text round-trips exactly)."""
    return lgb.Booster(model_str=booster.model_to_string())


class SingleRow:
    """Raw score and contributions of one row, as ``Booster.predict`` gives them."""

    def __init__(self, booster: lgb.Booster) -> None:
        self.booster = own_copy(booster)
        booster = self.booster
        columns = booster.num_feature()
        self._raw = _Prepared(booster, RAW_SCORE, columns)
        self._contrib = _Prepared(booster, CONTRIB, columns)

    def raw(self, row: np.ndarray) -> np.ndarray:
        """Shape (1,), like ``predict(raw_score=True)`` of a one-row matrix."""
        return self._raw(row).reshape(1)

    def contributions(self, row: np.ndarray) -> np.ndarray:
        """Shape (1, features + 1), like ``predict(pred_contrib=True)``."""
        return self._contrib(row)
