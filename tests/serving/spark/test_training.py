"""Training snapshots built on the cluster are the ones this machine builds: the same
pairs, labels, periods, fit sample and features, in the same order."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from pyspark.sql import SparkSession

from earlywarn.contract import load_dataset
from earlywarn.spark.dataset import read_dataset
from earlywarn.spark.snapshots import spark_snapshot_split
from earlywarn.training.snapshots import SnapshotSettings, snapshot_split
from tests.serving.spark.conftest import PARTITIONS

pytestmark = pytest.mark.slow  # Spark in local mode

UNTIL = dt.datetime(2026, 1, 1)


def test_snapshots_are_the_embedded_snapshots(spark: SparkSession, sample_parquet: Path) -> None:
    dataset = load_dataset(sample_parquet)
    settings = SnapshotSettings(frequency_days=28)
    # Some listed cases acted on: their rows with the action in the outcome window go.
    treated = dataset.cases.head(40).select(
        "case_id", (pl.col("registered_at") + dt.timedelta(days=200)).alias("acted_at")
    )
    expected = snapshot_split(dataset, UNTIL, settings, treated)
    got = spark_snapshot_split(read_dataset(spark, str(sample_parquet)), UNTIL, settings,
                               PARTITIONS, treated)  # fmt: skip
    assert (got.pairs, got.left_out_treated) == (expected.pairs, expected.left_out_treated)
    assert expected.left_out_treated > 0
    for part in ("fit", "validation", "backtest"):
        want = getattr(expected.split, part)
        assert want.height > 100
        assert_frame_equal(getattr(got.split, part), want, check_exact=True)
