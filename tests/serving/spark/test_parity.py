"""The cluster path gives what this machine gives: the same features (exactly), the same
probabilities, the same stored list and files, on the sample and on a 100,000-case world."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from pyspark.sql import SparkSession
from sqlalchemy import select
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.contract import Dataset, load_dataset
from earlywarn.contract.rules import TARGETS, end_of_day
from earlywarn.features.build import build_features
from earlywarn.features.labels import scoring_populations
from earlywarn.models.capacity import Capacity
from earlywarn.models.registry import LoadedModels
from earlywarn.serving.list_changes import BASIS
from earlywarn.serving.list_files import UNEXPLAINED, list_folder
from earlywarn.serving.risk_list import build_risk_list, store_scored_list
from earlywarn.serving.store import ITEM_COLUMNS, RiskList, RiskListItem, open_store
from earlywarn.settings import Settings, load_settings
from earlywarn.spark.dataset import read_dataset
from earlywarn.spark.day import spark_scores
from earlywarn.spark.features import spark_features
from earlywarn.spark.frames import collect
from tests.serving.spark.conftest import PARTITIONS

pytestmark = pytest.mark.slow  # Spark starts in seconds and each stage costs some: minutes in all

SAMPLE_AS_OF = dt.datetime(2025, 11, 1)
LIST_DAYS = [dt.date(2025, 10, 30), dt.date(2025, 10, 31)]
WORLD_DAY = dt.date(2024, 12, 30)


def spark_built(
    spark: SparkSession, folder: Path, as_ofs: list[dt.datetime], **kw: object
) -> pl.DataFrame:
    frame, schema = spark_features(read_dataset(spark, str(folder)), as_ofs, PARTITIONS, **kw)  # type: ignore[arg-type]
    return collect(frame, schema).sort("as_of", "case_id")


def test_features_are_the_embedded_features(spark: SparkSession, sample_parquet: Path) -> None:
    dataset = load_dataset(sample_parquet)
    moments = [dt.datetime(2025, 3, 1), dt.datetime(2025, 7, 1), SAMPLE_AS_OF]  # as training
    for as_ofs in ([SAMPLE_AS_OF], moments):
        expected = build_features(dataset, as_ofs).sort("as_of", "case_id")
        assert expected.height > 1000
        assert_frame_equal(spark_built(spark, sample_parquet, as_ofs), expected, check_exact=True)


def test_chosen_cases_at_an_earlier_moment(spark: SparkSession, sample_parquet: Path) -> None:
    """What a list's changes ask for: some cases at the previous list's moment, whether or
    not they were in its population then."""
    dataset = load_dataset(sample_parquet)
    cases = dataset.cases["case_id"].sort()[::7].to_list()
    moment = dt.datetime(2025, 9, 30, 23, 59, 59)
    pairs = pl.DataFrame({"case_id": cases, "as_of": [moment] * len(cases)}).cast(
        {"as_of": pl.Datetime("us")}
    )
    expected = build_features(dataset, [moment], pairs).sort("as_of", "case_id")
    asked = spark.createDataFrame(pairs.to_arrow())
    got = spark_built(spark, sample_parquet, [moment], pairs=asked)
    assert_frame_equal(got, expected, check_exact=True)


def both_lists(
    tmp_path: Path,
    spark: SparkSession,
    folder: Path,
    dataset: Dataset,
    models: LoadedModels,
    days: list[dt.date],
) -> dict[str, Settings]:
    """The same days' lists built by each engine in a work directory of its own; each
    day's change basis removed after it, so that the next day's changes are computed
    from the features at the earlier moment (the engine's own features)."""
    works = {engine: load_settings(work_dir=tmp_path / engine) for engine in ("embedded", "spark")}
    data = read_dataset(spark, str(folder))
    for engine, settings in works.items():
        sessions = open_store(settings)
        capacity = Capacity(settings.capacity_share, settings.capacity_minimum)
        for day in days:
            if engine == "embedded":
                build_risk_list(settings, dataset, day, sessions, models)
            else:
                scorer = spark_scores(data, models, capacity, PARTITIONS)
                store_scored_list(settings, day, sessions, models, scorer)
            (list_folder(settings, day) / BASIS).unlink()
    return works


def assert_same_lists(works: dict[str, Settings], days: list[dt.date]) -> None:
    stored: dict[str, list[object]] = {}
    for engine, settings in works.items():
        with open_store(settings)() as session:
            headers = session.scalars(select(RiskList).order_by(RiskList.list_date)).all()
            rows = session.scalars(
                select(RiskListItem).order_by(RiskListItem.list_id, RiskListItem.rank)
            ).all()
            stored[engine] = [h.checksum for h in headers] + [
                tuple(getattr(r, c) for c in ITEM_COLUMNS) for r in rows
            ]
    assert stored["embedded"] == stored["spark"]
    assert len(stored["spark"]) > len(days)
    for day in days:
        for name in ("scores.csv", "risk-list.csv", UNEXPLAINED):
            found = [(list_folder(s, day) / name).read_bytes() for s in works.values()]
            assert found[0] == found[1], f"{day} {name}"


def test_the_same_list_on_the_sample(
    tmp_path: Path,
    spark: SparkSession,
    sample_parquet: Path,
    champions: LoadedModels,
) -> None:
    dataset = load_dataset(sample_parquet)
    works = both_lists(tmp_path, spark, sample_parquet, dataset, champions, LIST_DAYS)
    assert_same_lists(works, LIST_DAYS)
    with open_store(works["spark"])() as session:
        changed = session.scalars(
            select(RiskListItem.changes).where(RiskListItem.risk_band != "low")
        ).all()
    assert any('"events":[{' in c for c in changed)  # changes computed on the cluster


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world-100k")
    result = CliRunner().invoke(
        app, ["simulate", "--out", str(out), "--cases", "100000", "--seed", "7"]
    )
    assert result.exit_code == 0, result.output
    return out


def test_a_100000_case_world(
    tmp_path: Path, spark: SparkSession, world: Path, champions: LoadedModels
) -> None:
    dataset = load_dataset(world)
    as_of = end_of_day(WORLD_DAY)
    expected = build_features(dataset, [as_of]).sort("as_of", "case_id")
    got = spark_built(spark, world, [as_of])
    assert (
        got.height
        == scoring_populations(dataset.cases, dataset.contacts, dataset.actions, [as_of]).height
        > 50_000
    )
    assert_frame_equal(got, expected, check_exact=True)
    works = both_lists(tmp_path, spark, world, dataset, champions, [WORLD_DAY])
    assert_same_lists(works, [WORLD_DAY])  # every row's stored probabilities included
    stored = {
        engine: pl.read_database(
            "select case_id, escalation_probability, collective_probability "
            "from risk_list_items order by case_id",
            open_store(settings)().connection(),
        )
        for engine, settings in works.items()
    }
    assert stored["spark"].height == got.height
    for target in TARGETS:  # computed on executors, to 1e-9 of this machine's
        column = f"{target}_probability"
        np.testing.assert_allclose(
            stored["spark"][column].to_numpy(), stored["embedded"][column].to_numpy(),
            rtol=0, atol=1e-9,
        )  # fmt: skip
