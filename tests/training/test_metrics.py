"""The backtest's figures where the office feels them: at its capacity, per moment."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from earlywarn.training.metrics import Capacity, top_k_flags


def test_capacity_flags_are_those_of_capacity_at_per_moment() -> None:
    capacity = Capacity(0.02, 50)
    sizes = [1, 49, 50, 51, 2499, 2500, 2501, 3333, 10_007]
    rng = np.random.default_rng(0)
    frame = pl.concat(
        pl.DataFrame({"as_of": [i] * n, "s": rng.random(n)}) for i, n in enumerate(sizes)
    )
    flags = top_k_flags(frame, "s", capacity)
    per_moment = frame.with_columns(pl.Series("f", flags)).group_by("as_of").agg(pl.col("f").sum())
    for moment, flagged in per_moment.iter_rows():
        n = sizes[moment]
        assert flagged == min(n, max(math.ceil(0.02 * n), 50)) == capacity.at(n)
