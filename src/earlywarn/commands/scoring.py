"""``earlywarn score``: the score file of the scoring population at a moment.

The libraries behind it (Polars, LightGBM, MLflow) are imported when it runs.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from earlywarn.commands.app import DataOption, app, asked_versions, load_or_exit
from earlywarn.commands.engines import (
    Engine,
    EngineOption,
    MasterOption,
    PartitionsOption,
    fresh_output,
    partitions_of,
    spark_dataset,
)
from earlywarn.contract.rules import TARGETS
from earlywarn.contract.spec import Mode

if TYPE_CHECKING:
    from earlywarn.models.registry import LoadedModels
    from earlywarn.settings import Settings


@app.command()
def score(
    ctx: typer.Context,
    data: DataOption,
    as_of: Annotated[
        dt.datetime,
        typer.Option(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"], help="时点 / The as-of moment."),
    ],
    out: Annotated[Path, typer.Option(help="评分文件 / Score file, .csv or .parquet.")],
    model: Annotated[
        str | None,
        typer.Option(help="版本 / e.g. escalation=3,collective=2 (default: the champions)."),
    ] = None,
    engine: EngineOption = Engine.EMBEDDED,
    spark_master: MasterOption = None,
    partitions: PartitionsOption = None,
) -> None:
    """评分 / Write the score file (data contract section 5) for the scoring population.

    With `--engine spark`, the cluster computes it and `--out` is a directory of
    Parquet parts; the models are read here once and sent to the executors.
    """
    import polars as pl

    from earlywarn.features.build import build_features
    from earlywarn.models import registry as models_registry
    from earlywarn.models.scoring import score_table

    settings: Settings = ctx.obj
    spark = engine is Engine.SPARK
    if not spark and out.suffix not in (".parquet", ".csv"):
        raise typer.BadParameter("the output file must end in .parquet or .csv", param_hint="--out")
    wanted = asked_versions(model)
    if spark:
        fresh_output(out)
    else:
        dataset = load_or_exit(data, Mode.LENIENT, settings)
    models_registry.connect(settings)
    try:
        loaded = models_registry.load_models({t: wanted.get(t) for t in TARGETS})
    except (LookupError, ValueError) as error:  # no such version, or one that must not serve
        typer.echo(f"error 错误: {error}", err=True)
        raise typer.Exit(1) from error
    if spark:
        score_on_spark(data, as_of, out, loaded, spark_master, partitions)
        return
    table = score_table(build_features(dataset, [as_of]), loaded)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".parquet":
        table.write_parquet(out)
    else:
        table.write_csv(out, datetime_format="%Y-%m-%dT%H:%M:%S")
    flagged = table.filter(pl.col("risk_band") == "high").height
    typer.echo(f"Scored 已评分 {table.height:,} cases, {flagged:,} high -> {out}")
    if table.is_empty():  # a mistyped --as-of reads as "every case is safe" otherwise
        first, last = dataset.cases["registered_at"].min(), dataset.contacts["occurred_at"].max()
        assert isinstance(first, dt.datetime) and isinstance(last, dt.datetime)
        _nobody_open(as_of, first, last)


def _nobody_open(as_of: dt.datetime, first: dt.datetime, last: dt.datetime) -> None:
    typer.echo(
        f"warning 警告: no case is in the scoring population at {as_of:%Y-%m-%d %H:%M}: "
        f"the data runs from {first:%Y-%m-%d} to {last:%Y-%m-%d}; is --as-of right? "
        "(该时点没有在办事项，请核对 --as-of)",
        err=True,
    )


def score_on_spark(
    data: Path,
    as_of: dt.datetime,
    out: Path,
    models: LoadedModels,
    master: str | None,
    partitions: int | None,
) -> None:
    """``score --engine spark``: features and scores on the executors, written by them."""
    from pyspark.sql import functions as sf

    from earlywarn.spark.features import spark_features
    from earlywarn.spark.scoring import score_file

    dataset, parallelism = spark_dataset(data, master)
    features, schema = spark_features(dataset, [as_of], partitions_of(partitions, parallelism))
    score_file(features, schema, models).write.parquet(str(out))
    written = dataset.session.read.parquet(str(out))
    counts = written.agg(
        sf.count("*"), sf.sum((sf.col("risk_band") == "high").cast("long"))
    ).first()
    assert counts is not None
    typer.echo(f"Scored 已评分 (spark) {counts[0]:,} cases, {counts[1] or 0:,} high -> {out}/")
    if not counts[0]:  # as on this machine: a mistyped --as-of is no "every case is safe"
        span = dataset.cases.agg(sf.min("registered_at")).first()
        last = dataset.contacts.agg(sf.max("occurred_at")).first()
        assert span is not None and last is not None
        _nobody_open(as_of, span[0], last[0])
