"""``--engine``: the batch commands on this machine (Polars) or on a Spark cluster.

Only the options and the session's start live here; Spark is imported when asked for,
so the embedded commands never load it.
"""

from __future__ import annotations

import enum
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from earlywarn.spark.dataset import SparkDataset


class Engine(enum.StrEnum):
    EMBEDDED = "embedded"
    SPARK = "spark"


EngineOption = Annotated[
    Engine,
    typer.Option(
        help="计算引擎 / embedded: Polars on this machine; spark: a Spark cluster "
        "(the dataset as Parquet on a path the cluster reads; docs/scale.md)."
    ),
]
MasterOption = Annotated[
    str | None,
    typer.Option(
        "--spark-master",
        help="Spark 主节点 / e.g. local[2], spark://host:7077, yarn "
        "(default: SPARK_MASTER, spark-submit or spark-defaults.conf, else local[*]).",
    ),
]
PartitionsOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="分区数 / Groups each Spark stage hands out (default: 4 per core of the cluster).",
    ),
]


def location_of(path: Path) -> str:
    """The dataset's location as the user typed it: a path turns ``hdfs://host/x`` into
    ``hdfs:/host/x``, which Spark would not find."""
    text = str(path)
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*):/(?!/)", r"\1://", text)


def spark_dataset(location: Path, master: str | None) -> tuple[SparkDataset, int]:
    """The dataset read by a Spark session, and the cluster's default parallelism;
    exit 1 with the reason if Spark cannot start or the dataset cannot be read."""
    from earlywarn.spark.dataset import SparkDatasetError, read_dataset
    from earlywarn.spark.session import SparkUnavailableError, spark_session

    local = Path(location_of(location))
    if "://" not in location_of(location) and not (local / "cases.parquet").exists():
        # Said before a Spark session is started for nothing (19 s here).
        typer.echo(
            f"error 错误: {location}: the Spark engine reads a dataset of Parquet tables "
            "(cases.parquet, contacts.parquet, ...); for an office's export or CSV files, "
            "run `earlywarn import EXPORT --out DIR` first and give DIR (Spark 引擎只读 Parquet "
            "数据集，请先导入)",
            err=True,
        )
        raise typer.Exit(1)
    try:
        session = spark_session(master)
        return read_dataset(session, location_of(location)), session.sparkContext.defaultParallelism
    except (SparkUnavailableError, SparkDatasetError) as error:
        typer.echo(f"error 错误: {error}", err=True)
        raise typer.Exit(1) from error


def partitions_of(asked: int | None, parallelism: int) -> int:
    return asked or 4 * max(parallelism, 1)


def fresh_output(out: Path) -> None:
    """A Spark output directory may replace an earlier one, never another file or folder."""
    import shutil

    if out.suffix.lower() in (".csv", ".parquet", ".xlsx", ".json"):
        raise typer.BadParameter(
            f"{out}: with --engine spark the output is a directory of Parquet parts, not "
            f"a {out.suffix} file; name a directory (e.g. {out.with_suffix('')}) "
            "(Spark 输出为 Parquet 目录，请指定目录名)",
            param_hint="--out",
        )
    if out.exists() and not (out / "_SUCCESS").exists():
        raise typer.BadParameter(
            f"{out} exists and is not an earlier Spark output; choose a new directory",
            param_hint="--out",
        )
    if out.exists():
        shutil.rmtree(out)
