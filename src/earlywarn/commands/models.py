"""Commands on models: train and promote (score: ``commands/scoring.py``).

The libraries behind them (Polars, LightGBM, MLflow, SQLAlchemy) are imported when a
command runs, so ``earlywarn train --help`` loads none of them.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from earlywarn.commands.app import (
    DataOption,
    HorizonOption,
    app,
    checked_target,
    load_or_exit,
)
from earlywarn.commands.engines import (
    Engine,
    EngineOption,
    MasterOption,
    PartitionsOption,
    partitions_of,
    spark_dataset,
)
from earlywarn.contract.rules import TARGETS, end_of_day
from earlywarn.contract.spec import Mode

if TYPE_CHECKING:
    import polars as pl

    from earlywarn.contract import Dataset
    from earlywarn.settings import Settings
    from earlywarn.training.pipeline import TrainResult
    from earlywarn.training.snapshots import SnapshotSettings

logger = logging.getLogger(__name__)


def day_after_last_contact(contacts: pl.DataFrame) -> dt.datetime:
    """The end of the last day with a contact: where a dataset's latest list stands."""
    last = contacts["occurred_at"].max()
    assert isinstance(last, dt.datetime)
    return end_of_day(last.date())


def within_data(until: dt.datetime | None, data_end: dt.datetime) -> dt.datetime:
    """An analyst's ``--until``, or the data's end; refused when later than the data's
    end: the backtest's last weeks would hold cases whose outcomes the data cannot know,
    counted as negatives, and such a model's figures passed the promotion gate. (The
    nightly retrain trains up to its own day, which the export covers.)"""
    if until is None:
        return data_end
    if until > data_end:
        raise typer.BadParameter(
            f"{until:%Y-%m-%d} is after the data's end ({data_end - dt.timedelta(days=1):%Y-%m-%d}"
            f", its last contact): outcomes after it are unknown and would count as none; "
            f"give --until {data_end:%Y-%m-%d} or earlier (截止时点晚于数据的最后记录)",
            param_hint="--until",
        )
    return until


def _truth_of(data: Path, horizon_days: int) -> pl.DataFrame | None:
    """The simulator's oracle beside the data, when it answers this training's question:
    a truth of another horizon is said and left out (a 14-day model measured against
    the 30-day oracle looked far closer to it than it was)."""
    import json

    import polars as pl

    manifest = data / "simulation.json"
    if manifest.exists():
        truth = json.loads(manifest.read_text(encoding="utf-8")).get("truth") or {}
        theirs = truth.get("horizon_days", horizon_days)
        if theirs != horizon_days:
            typer.echo(
                f"warning 警告: no oracle comparison: the simulator's truth answers a "
                f"{theirs}-day question, this training a {horizon_days}-day one "
                "(模拟真值的时间窗与本次训练不同，不作比较)",
                err=True,
            )
            return None
    for suffix in ("parquet", "csv"):
        path = data / f"truth.{suffix}"
        if path.exists():
            return (
                pl.read_parquet(path)
                if suffix == "parquet"
                else pl.read_csv(path, try_parse_dates=True)
            )
    return None


@app.command()
def train(
    ctx: typer.Context,
    data: DataOption,
    until: Annotated[
        dt.datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="截止时点 / Use history up to this day; snapshots whose horizon ends later "
            "are left out (default: the day after the last contact).",
        ),
    ] = None,
    horizon: HorizonOption = 30,
    targets: Annotated[
        str, typer.Option(help="目标 / Comma-separated: escalation, collective.")
    ] = "escalation,collective",
    tune_trials: Annotated[
        int,
        typer.Option("--tune", min=0, help="调参次数 / Optuna trials per target (0: defaults)."),
    ] = 0,
    frequency: Annotated[
        int, typer.Option(min=1, help="快照间隔（天）/ Days between snapshots.")
    ] = 7,
    negative_share: Annotated[
        float,
        typer.Option(
            min=0.01, max=1.0, help="训练期负样本比例 / Share of all-negative fit rows kept."
        ),
    ] = 0.3,
    full_evaluation: Annotated[
        bool,
        typer.Option(
            "--full-evaluation",
            help="完整评估 / Fit the baselines on every fit row and refit the learning "
            "curve (slower). By default the baselines use a seeded sample of at most "
            "EARLYWARN_EVALUATION_ROWS rows and the curve is skipped unless "
            "EARLYWARN_LEARNING_CURVE is set. The model itself always uses every row.",
        ),
    ] = False,
    engine: EngineOption = Engine.EMBEDDED,
    spark_master: MasterOption = None,
    partitions: PartitionsOption = None,
) -> None:
    """训练并登记模型 / Train one model per target, backtest it, register it in MLflow.

    Writes the backtest report (HTML and PNG) to the work directory and to MLflow;
    promote a version with `earlywarn promote`. With `--engine spark` the snapshots
    (populations, labels, the fit sample, features) are built on the cluster and the
    kept rows collected here, where LightGBM fits.
    """
    settings: Settings = ctx.obj
    if full_evaluation:
        settings = settings.model_copy(update={"evaluation_rows": 0, "learning_curve": True})
    chosen = tuple(dict.fromkeys(t.strip() for t in targets.split(",") if t.strip()))
    unknown = [t for t in chosen if t not in TARGETS]
    if unknown or not chosen:
        raise typer.BadParameter(
            f"unknown targets {unknown}: escalation, collective", param_hint="--targets"
        )
    from earlywarn.training.snapshots import SnapshotSettings

    snapshot_settings = SnapshotSettings(
        frequency_days=frequency, horizon_days=horizon, fit_negative_share=negative_share
    )
    if engine is Engine.SPARK:
        train_on_spark(
            settings, data, until, chosen, snapshot_settings, tune_trials, spark_master, partitions
        )
        return
    dataset = load_or_exit(data, Mode.LENIENT, settings)
    until = within_data(until, day_after_last_contact(dataset.contacts))
    train_models(settings, dataset, until, chosen, snapshot_settings, tune_trials)


def train_on_spark(
    settings: Settings,
    data: Path,
    until: dt.datetime | None,
    targets: tuple[str, ...],
    snapshot_settings: SnapshotSettings,
    tune_trials: int,
    master: str | None,
    partitions: int | None,
) -> None:
    """``train --engine spark``: snapshots on the cluster, fitting here."""
    from pyspark.sql import functions as sf

    from earlywarn.spark.snapshots import SparkSnapshots
    from earlywarn.training.pipeline import train as run_training

    dataset, parallelism = spark_dataset(data, master)
    last = dataset.contacts.agg(sf.max("occurred_at")).first()
    assert last is not None and isinstance(last[0], dt.datetime)
    until = within_data(until, end_of_day(last[0].date()))
    source = SparkSnapshots(dataset, partitions_of(partitions, parallelism))
    try:
        result = run_training(
            None, until, settings, targets, snapshot_settings, tune_trials,
            treated=treated_cases(settings), snapshots_of=source,
        )  # fmt: skip
    except ValueError as error:
        typer.echo(f"error 错误: {error}", err=True)
        raise typer.Exit(1) from error
    show_trained(result)


def treated_cases(settings: Settings) -> pl.DataFrame | None:
    """The office's recorded actions on listed cases (the treatment ledger), if any."""
    from earlywarn.serving.store import open_store
    from earlywarn.serving.treatment import acted_on

    with open_store(settings)() as session:
        treated = acted_on(session)
    return treated if treated.height else None


def train_models(
    settings: Settings,
    dataset: Dataset,
    until: dt.datetime | None = None,
    targets: tuple[str, ...] = TARGETS,
    snapshot_settings: SnapshotSettings | None = None,
    tune_trials: int = 0,
) -> TrainResult:
    """Train, backtest and register; print the figures; exit 1 when training cannot run."""
    from earlywarn.training.pipeline import train as run_training
    from earlywarn.training.snapshots import SnapshotSettings

    end = until or day_after_last_contact(dataset.contacts)
    try:
        result = run_training(
            dataset, end, settings, targets, snapshot_settings, tune_trials,
            _truth_of(dataset.path, (snapshot_settings or SnapshotSettings()).horizon_days),
            treated_cases(settings),
        )  # fmt: skip
    except ValueError as error:
        typer.echo(f"error 错误: {error}", err=True)
        raise typer.Exit(1) from error
    show_trained(result)
    return result


def show_trained(result: TrainResult) -> None:
    for target, figures in result.metrics.items():
        typer.echo(
            f"{target}: version {result.versions[target]}  "
            f"ROC-AUC {figures.get('roc_auc', float('nan')):.3f}  "
            f"PR-AUC {figures.get('pr_auc', float('nan')):.3f}  precision at capacity "
            f"{figures['precision_at_capacity']:.4f}  ECE {figures['ece']:.4f}"
        )
        held = result.champion.get(target, {})
        if "compared_with_champion" in held:  # what promote will compare, said now
            roc, precision = (
                float(held["champion_backtest_roc_auc"]),
                float(held["champion_backtest_precision_at_capacity"]),
            )
            beats = (
                figures.get("roc_auc", 0.0) > roc and figures["precision_at_capacity"] >= precision
            )
            typer.echo(
                f"  champion {held['compared_with_champion']} on the same backtest: ROC-AUC "
                f"{roc:.3f}  precision at capacity {precision:.4f}: "
                + (
                    "promote would accept it"
                    if beats
                    else "promote would refuse it (未优于正式版本)"
                )
            )
        elif held:
            typer.echo(f"  not comparable with the champion: {next(iter(held.values()))}")
        for line in result.verdicts.get(target, ()):
            typer.echo(f"  {line}")
    typer.echo(f"Report 报告: {result.report}")
    from earlywarn.training.phases import phases_text

    typer.echo("Phases 阶段: " + phases_text(result.phases))


@app.command()
def promote(
    ctx: typer.Context,
    target: Annotated[
        str, typer.Option(help="预测目标 / escalation (越级访) or collective (集体访)")
    ],
    version: Annotated[str, typer.Option(help="模型版本 / Registered version to promote.")],
    force: Annotated[
        bool, typer.Option(help="不比较直接上线 / Promote without the comparison.")
    ] = False,
    reason: Annotated[
        str | None, typer.Option(help="原因 / Required with --force; recorded.")
    ] = None,
) -> None:
    """将模型设为正式版本 / Make a version the champion if it beats the current one.

    It must beat the champion on the same backtest (higher ROC-AUC, precision at
    capacity not lower), or be forced with a reason, which is recorded.
    """
    from earlywarn.commands.decisions import record
    from earlywarn.models import registry as models_registry
    from earlywarn.training import registry

    settings: Settings = ctx.obj
    checked_target(target)
    reason = reason.strip() if reason else None
    if force and not reason:
        raise typer.BadParameter(
            "a forced promotion is recorded with why: give --reason (强制上线须说明原因)",
            param_hint="--reason",
        )
    client = models_registry.connect(settings)
    decision = registry.promote(client, target, version, force, reason)
    said = f"forced, reason: {reason}; {decision.message}" if force else decision.message
    record(settings, "model.promote", f"{target}={version}", said)
    typer.echo(decision.message, err=not decision.promoted)
    if not decision.promoted and not decision.already:
        raise typer.Exit(1)
