"""``--engine spark`` from the command line, and what it says when it cannot run."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from pyspark.sql import SparkSession
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.commands.engines import fresh_output, location_of
from earlywarn.contract import load_dataset
from earlywarn.models.registry import LoadedModels
from earlywarn.settings import Settings
from earlywarn.spark.dataset import SparkDatasetError, read_dataset

pytestmark = pytest.mark.slow  # Spark in local mode
runner = CliRunner()
MASTER = ["--engine", "spark", "--spark-master", "local[2]", "--partitions", "4"]


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_features_and_scores_on_spark(
    tmp_path: Path,
    spark: SparkSession,
    sample_parquet: Path,
    settings: Settings,
    champions: LoadedModels,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EARLYWARN_WORK_DIR", str(settings.work_dir))
    data = ["--data", str(sample_parquet), "--as-of", "2025-11-01"]
    embedded = tmp_path / "features.parquet"
    invoke("features", *data, "--out", str(embedded))
    said = invoke("features", *data, "--out", str(tmp_path / "features"), *MASTER)
    assert "(spark)" in said
    parts = pl.read_parquet(tmp_path / "features" / "*.parquet")
    expected = pl.read_parquet(embedded)
    assert parts.height == expected.height
    assert parts.sort("case_id").equals(
        expected.with_columns(pl.col(pl.Enum).cast(pl.String)).sort("case_id")
    )
    # A later run replaces its own output (it has Spark's _SUCCESS mark); never another.
    fresh_output(tmp_path / "features")
    assert not (tmp_path / "features").exists()
    refused = runner.invoke(app, ["features", *data, "--out", str(tmp_path), *MASTER])
    assert refused.exit_code != 0 and "not an earlier Spark output" in refused.output
    as_file = runner.invoke(app, ["score", *data, "--out", str(tmp_path / "s.csv"), *MASTER])
    said = " ".join(as_file.output.replace("│", " ").split())  # the error box wraps lines
    assert as_file.exit_code != 0 and "not a .csv file" in said
    assert not (tmp_path / "s.csv").exists()

    invoke("score", *data, "--out", str(tmp_path / "scores.parquet"))
    invoke("score", *data, "--out", str(tmp_path / "scores"), *MASTER)
    on_spark = pl.read_parquet(tmp_path / "scores" / "*.parquet").sort("case_id")
    assert on_spark.equals(pl.read_parquet(tmp_path / "scores.parquet").sort("case_id"))
    assert on_spark.filter(pl.col("risk_band") != "low")["reasons"].str.len_chars().min() > 0


def test_risk_list_on_spark(
    spark: SparkSession,
    sample_parquet: Path,
    settings: Settings,
    champions: LoadedModels,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EARLYWARN_WORK_DIR", str(settings.work_dir))
    said = invoke("risk-list", "--data", str(sample_parquet), "--date", "2025-10-20", *MASTER)
    assert "Risk list" in said and "stored" in said
    assert "OK" in invoke("risk-list", "--date", "2025-10-20", "--verify")


def test_missing_columns_and_tables_are_named(
    tmp_path: Path, spark: SparkSession, sample_parquet: Path
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(sample_parquet, broken)
    sample = load_dataset(sample_parquet)
    sample.contacts.drop("group_size").write_parquet(broken / "contacts.parquet")
    with pytest.raises(
        SparkDatasetError, match=r"contacts.parquet: missing column\(s\) group_size"
    ):
        read_dataset(spark, str(broken))
    (broken / "cases.parquet").unlink()
    with pytest.raises(SparkDatasetError, match=r"cases\.parquet: cannot be read"):
        read_dataset(spark, str(broken))
    failed = runner.invoke(
        app, ["features", "--data", str(broken), "--as-of", "2025-11-01",
              "--out", str(tmp_path / "out"), *MASTER]
    )  # fmt: skip
    assert failed.exit_code == 1 and "cases.parquet" in failed.output


def test_cluster_locations_keep_their_scheme() -> None:
    assert location_of(Path("hdfs://namenode:8020/petitions/2026")) == (
        "hdfs://namenode:8020/petitions/2026"
    )
    assert location_of(Path("s3a://bucket/petitions")) == "s3a://bucket/petitions"
    assert location_of(Path("/data/petitions")) == "/data/petitions"


def test_repeated_keys_empty_tables_and_zoned_moments(
    tmp_path: Path, spark: SparkSession, sample_parquet: Path
) -> None:
    sample = load_dataset(sample_parquet)
    assert sample.actions is not None

    def variant(name: str, **tables: pl.DataFrame) -> str:
        folder = tmp_path / name
        shutil.copytree(sample_parquet, folder)
        for table, frame in tables.items():
            frame.write_parquet(folder / f"{table}.parquet")
        return str(folder)

    # A repeated case id: named, not a cluster job that never ends.
    repeated = variant("repeated", cases=pl.concat([sample.cases, sample.cases.head(1)]))
    first = sample.cases["case_id"][0]
    with pytest.raises(SparkDatasetError, match=rf"case_id '{first}' appears 2 times"):
        read_dataset(spark, repeated)
    with pytest.raises(SparkDatasetError, match=r"contacts.parquet: no rows"):
        read_dataset(spark, variant("empty", contacts=sample.contacts.head(0)))
    # A code outside the contract: named with an example, not a job dying in its tasks.
    faxed = sample.contacts.with_columns(
        pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("fax"))
        .otherwise(pl.col("channel").cast(pl.String)).alias("channel"),
        pl.when(pl.int_range(pl.len()) < 2).then(0).otherwise(pl.col("group_size"))
        .alias("group_size"),
    )  # fmt: skip
    with pytest.raises(SparkDatasetError, match=r"channel holds 1 value\(s\) .* e.g. 'fax'"):
        read_dataset(spark, variant("fax", contacts=faxed))
    with pytest.raises(SparkDatasetError, match=r"group_size holds 2 value\(s\) .* e.g. '0'"):
        read_dataset(spark, variant("none", contacts=faxed.with_columns(channel=pl.lit("visit"))))
    # A table written in parts, one of them without a column: named, not read as nulls.
    parts = Path(variant("parts")) / "contacts.parquet"
    parts.unlink()
    parts.mkdir()
    half = sample.contacts.height // 2
    sample.contacts.head(half).write_parquet(parts / "part-0.parquet")
    sample.contacts.slice(half).drop("level").write_parquet(parts / "part-1.parquet")
    later = sample.contacts.height - half
    with pytest.raises(SparkDatasetError, match=rf"level is empty in {later:,} of"):
        read_dataset(spark, str(parts.parent))
    # Moments stored with their zone (UTC) are read as the office's wall clock, as the
    # embedded loader reads them: not eight hours early.
    zoned = variant(
        "zoned",
        contacts=sample.contacts.with_columns(
            pl.col("occurred_at").dt.replace_time_zone("Asia/Shanghai").dt.convert_time_zone("UTC")
        ),
    )
    assert load_dataset(Path(zoned)).contacts["occurred_at"].equals(sample.contacts["occurred_at"])
    read = read_dataset(spark, zoned).contacts.select("contact_id", "occurred_at").toArrow()
    on_spark = pl.from_arrow(read).sort("contact_id")  # type: ignore[union-attr]
    expected = sample.contacts.select("contact_id", "occurred_at").sort("contact_id")
    assert on_spark["occurred_at"].cast(pl.Datetime("us")).equals(expected["occurred_at"])


def test_ctrl_c_during_a_job_stops_without_py4j_traces() -> None:
    """PySpark's own SIGINT handler calls the JVM from inside the call it interrupts
    (80 lines of py4j traces, measured by hand on a 50,000-case world); ours only raises,
    and py4j's record of the interrupted call is dropped."""
    import logging
    import signal

    from earlywarn.spark.session import _plain_interrupts, _without_py4j_interrupts

    before = signal.getsignal(signal.SIGINT)
    try:
        _plain_interrupts()
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
        record = logging.LogRecord(
            "root", logging.ERROR, "/x/py4j/java_gateway.py", 1070,
            "KeyboardInterrupt while sending command.", None, None,
        )  # fmt: skip
        assert not logging.getLogger().filter(record)
        assert logging.getLogger("py4j").level == logging.CRITICAL
    finally:
        signal.signal(signal.SIGINT, before)
        logging.getLogger("py4j").setLevel(logging.WARNING)
        logging.getLogger().removeFilter(_without_py4j_interrupts)


def test_a_provinces_own_codes_and_moments_as_text_are_read_as_the_embedded_loader_reads_them(
    tmp_path: Path, spark: SparkSession, sample_parquet: Path
) -> None:
    """A category the contract does not know stopped the job in its executors (558 lines
    of traces), and moments an ETL job wrote as ISO text stopped it too."""
    sample = load_dataset(sample_parquet)
    folder = tmp_path / "province"
    shutil.copytree(sample_parquet, folder)
    own = sample.cases.with_columns(
        pl.when(pl.int_range(pl.len()) < 5).then(pl.lit("mining_subsidence"))
        .otherwise(pl.col("category").cast(pl.String)).alias("category"),
        pl.col("registered_at").dt.strftime("%Y-%m-%dT%H:%M:%S").alias("registered_at"),
    )  # fmt: skip
    own.write_parquet(folder / "cases.parquet")
    zoned = sample.contacts.with_columns(
        pl.col("occurred_at").dt.replace_time_zone("Asia/Shanghai").dt.convert_time_zone("UTC")
        .dt.strftime("%Y-%m-%dT%H:%M:%S%:z").alias("occurred_at")
    )  # fmt: skip
    zoned.write_parquet(folder / "contacts.parquet")
    read = read_dataset(spark, str(folder))
    cases = pl.from_arrow(read.cases.select("case_id", "category", "registered_at").toArrow())
    cases = cases.sort("case_id")  # type: ignore[union-attr]
    assert cases["category"].head(5).to_list() == ["other"] * 5
    expected = sample.cases.sort("case_id")["registered_at"]
    assert cases["registered_at"].cast(pl.Datetime("us")).equals(expected)
    contacts = pl.from_arrow(read.contacts.select("contact_id", "occurred_at").toArrow())
    on_spark = contacts.sort("contact_id")["occurred_at"].cast(pl.Datetime("us"))  # type: ignore[union-attr]
    assert on_spark.equals(sample.contacts.sort("contact_id")["occurred_at"])
    broken = own.with_columns(registered_at=pl.lit("不详"))
    broken.write_parquet(folder / "cases.parquet")
    with pytest.raises(SparkDatasetError, match=r"registered_at holds text that is no moment"):
        read_dataset(spark, str(folder))


def test_an_export_given_to_spark_is_sent_to_import_before_spark_starts(tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    (export / "cases.csv").write_text("case_id\nC1\n", encoding="utf-8")
    result = runner.invoke(app, ["features", "--data", str(export), "--as-of", "2025-01-01",
                                 "--out", str(tmp_path / "out"), *MASTER])  # fmt: skip
    assert result.exit_code == 1 and "earlywarn import EXPORT --out DIR" in result.output


def test_a_spark_start_failure_names_its_cause_not_always_java() -> None:
    from earlywarn.spark.session import start_failure

    yarn = RuntimeError(
        "When running with master 'yarn' either HADOOP_CONF_DIR or YARN_CONF_DIR must be "
        "set in the environment.\n\tat org.apache..."
    )
    assert "HADOOP_CONF_DIR" in start_failure("yarn", yarn) and "Java" not in start_failure(
        "yarn", yarn
    )
    typo = RuntimeError("Master must either be yarn or start with spark, k8s, or local")
    assert "local[N], spark://host:7077" in start_failure("yran", typo)
    assert "\n" not in start_failure("yarn", yarn)  # one line, not Java's stack
