"""Training's split, features computed only for the pairs it keeps, is the split of every
snapshot: the same rows, in the same order, with the same values."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from earlywarn.contract import load_dataset
from earlywarn.resources import sample_dataset
from earlywarn.training.snapshots import (
    SnapshotSettings,
    build_snapshots,
    snapshot_split,
    time_split,
    without_treated,
)

UNTIL = dt.datetime(2026, 1, 1)


@pytest.mark.slow
@pytest.mark.parametrize("with_treatment", [False, True])
def test_the_split_is_that_of_every_snapshot(with_treatment: bool) -> None:
    dataset = load_dataset(sample_dataset())
    settings = SnapshotSettings()
    treated = None
    if with_treatment:  # a ledger of actions on 5% of the cases, 200 days after registering
        acted = pl.col("registered_at") + pl.duration(days=200)
        treated = dataset.cases.sample(fraction=0.05, seed=1).select(
            "case_id", acted.alias("acted_at")
        )
    built = build_snapshots(dataset, UNTIL, settings)
    untreated = without_treated(built, treated, settings.horizon_days)
    expected = time_split(untreated, settings)
    found = snapshot_split(dataset, UNTIL, settings, treated)
    assert found.pairs == built.height
    assert found.left_out_treated == built.height - untreated.height
    assert (found.left_out_treated > 0) == with_treatment
    for period in ("fit", "validation", "backtest"):
        assert getattr(found.split, period).equals(getattr(expected, period)), period
