"""Spark in local mode (two cores, as the suite's machine has), one session for the
suite. Beside the serving tests, so that their small sample champions (fitted once per
session) serve here too."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from earlywarn.contract import Dataset
from earlywarn.spark.session import spark_session

PARTITIONS = 4


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    session = spark_session("local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def sample_parquet(tmp_path_factory: pytest.TempPathFactory, sample: Dataset) -> Path:
    """The sample as the cluster reads it: the contract's tables as Parquet."""
    out = tmp_path_factory.mktemp("sample-parquet")
    sample.cases.write_parquet(out / "cases.parquet")
    sample.contacts.write_parquet(out / "contacts.parquet")
    assert sample.actions is not None
    sample.actions.write_parquet(out / "actions.parquet")
    shutil.copy(sample.path / "calendar.yaml", out / "calendar.yaml")
    return out
