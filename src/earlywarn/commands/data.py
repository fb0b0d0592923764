"""Commands on datasets: validate, schema, simulate, features."""

from __future__ import annotations

import datetime as dt
import json
import logging
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from earlywarn.commands.app import DataOption, HorizonOption, app, load_or_exit
from earlywarn.commands.engines import (
    Engine,
    EngineOption,
    MasterOption,
    PartitionsOption,
    fresh_output,
    partitions_of,
    spark_dataset,
)
from earlywarn.contract.spec import CONTRACT_VERSION, Mode

if TYPE_CHECKING:  # the rest is imported by the command that uses it
    from earlywarn.contract import ContractError, Dataset
    from earlywarn.contract.report import ValidationReport
    from earlywarn.settings import Settings

logger = logging.getLogger(__name__)


def print_report(report: ValidationReport, settings: Settings, issues_file: Path | None) -> None:
    typer.echo(
        f"Dataset 数据集: {report.dataset}  (contract {CONTRACT_VERSION}, {report.mode} mode)"
    )
    held = "quarantined 隔离" if report.mode == "lenient" else "with errors 有错"
    typer.echo(f"{'table 表':<12}{'file 文件':<20}{'read 读取':>12}{'kept 保留':>12}{held:>18}")
    for summary in report.tables:
        typer.echo(
            f"{summary.table:<12}{summary.file or '-':<20}{summary.rows_read:>12,}"
            f"{summary.rows_kept:>12,}{summary.rows_quarantined:>18,}"
        )
    for line in report.warning_lines():
        typer.echo(f"warning 警告: {line}", err=True)
    errors = report.errors.height
    for line in report.error_lines(limit=settings.show_issues):
        typer.echo(f"error 错误: {line}", err=True)
    if errors > settings.show_issues:
        typer.echo(f"... and {errors - settings.show_issues:,} more errors 更多错误", err=True)
    if issues_file is not None and report.issues.height:
        issues_file.parent.mkdir(parents=True, exist_ok=True)
        report.issues.write_csv(issues_file)
        typer.echo(f"All problems 全部问题 ({report.issues.height:,}): {issues_file}")
    for summary in report.tables:
        if summary.quarantine_path is not None:
            typer.echo(f"Quarantined rows 隔离行 ({summary.table}): {summary.quarantine_path}")


def refuse_dataset(
    error: ContractError, settings: Settings, issues_file: Path | None, advice: str
) -> NoReturn:
    """Print every problem found, say what to do, exit 1."""
    print_report(error.report, settings, issues_file)
    typer.echo(f"INVALID 不合格: {advice}", err=True)
    raise typer.Exit(1) from error


@app.command()
def validate(
    ctx: typer.Context,
    dataset: Annotated[
        Path,
        typer.Argument(
            help="数据集目录 / Dataset directory with cases, contacts and optionally actions "
            "(CSV or Parquet) and calendar.yaml.",
            show_default=False,
        ),
    ],
    mode: Annotated[
        Mode,
        typer.Option(
            help="strict 严格：有问题即失败；lenient 宽松：无法使用的行隔离并注明原因。/ strict: "
            "any problem fails (exit 1) and every problem is listed. lenient: rows that cannot "
            "be used are set aside in a quarantine file with the reason, the rest are kept.",
        ),
    ] = Mode.STRICT,
    issues_file: Annotated[
        Path | None,
        typer.Option(
            "--issues",
            help="全部问题清单的保存位置 / Where to save every problem as CSV (default: the "
            "work directory's reports/).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """检查数据集是否符合数据合同 / Check a dataset against the data contract.

    Reports each problem with its file, line and column; exits 1 when the
    dataset cannot be used as it is.
    """
    validated(ctx.obj, dataset, mode, issues_file)


def validated(
    settings: Settings, dataset: Path, mode: Mode, issues_file: Path | None = None
) -> Dataset:
    """Load and check a dataset, print the report; exit 2 (missing) or 1 (unusable)."""
    from earlywarn.contract import ContractError, load_dataset

    target = issues_file or settings.reports_dir / f"validation-{dataset.resolve().name}.csv"
    try:
        result = load_dataset(dataset, mode, settings.quarantine_dir(dataset))
    except FileNotFoundError as error:
        typer.echo(f"error 错误: {error}", err=True)
        raise typer.Exit(2) from error
    except ContractError as error:
        refuse_dataset(error, settings, target, "fix the problems above and run validate again.")
    print_report(result.report, settings, target)
    typer.echo("OK 合格" if result.report.ok else "USABLE 可用 (rows quarantined)")
    return result


@app.command()
def schema(
    out: Annotated[
        Path | None,
        typer.Option(help="输出文件 / Write the schema here instead of printing it."),
    ] = None,
) -> None:
    """输出数据合同的 JSON Schema / Print the data contract as JSON Schema.

    The project's copy lives in data/schema/; regenerate it with
    `earlywarn schema --out data/schema/contract-<version>.schema.json`.
    """
    from earlywarn.contract.json_schema import render_json_schema
    from earlywarn.ingest.mapping_file import mapping_json_schema

    text = json.dumps(render_json_schema(), ensure_ascii=False, indent=2) + "\n"
    if out is not None:  # the import mapping file's schema lives beside the contract's
        mapping = json.dumps(mapping_json_schema(), ensure_ascii=False, indent=2) + "\n"
        (out.parent / "import-mapping.schema.json").write_text(mapping, encoding="utf-8")
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}")


class FileFormat(StrEnum):
    PARQUET = "parquet"
    CSV = "csv"
    XLSX_OFFICE = "xlsx-office"  # an office's workbook: what `earlywarn import` reads
    CSV_GBK = "csv-gbk"


def _log_progress(done: int, total: int) -> None:
    if done * 10 // total != (done - 30) * 10 // total or done == total:
        logger.info("simulated %d of %d days", done, total)


@app.command()
def simulate(
    out: Annotated[Path, typer.Option(help="输出目录 / Directory to write the dataset to.")],
    cases: Annotated[
        int, typer.Option(min=1, help="新登记事项数 / Cases registered over the period.")
    ] = 3000,
    start: Annotated[
        dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="开始日期 / First day simulated.")
    ] = dt.datetime(2023, 1, 1),
    end: Annotated[
        dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="结束日期 / Last day simulated.")
    ] = dt.datetime(2024, 12, 31),
    seed: Annotated[int, typer.Option(help="随机种子 / Same seed, same bytes.")] = 0,
    file_format: Annotated[
        FileFormat,
        typer.Option(
            "--format",
            help="文件格式 / parquet or csv (the contract's files), or an office's own export: "
            "xlsx-office (a workbook with Chinese headers and values) or csv-gbk.",
        ),
    ] = FileFormat.PARQUET,
    truth: Annotated[
        dt.datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="真值时点 / Also write truth.<format>: the oracle probability of each target "
            "for every case of the scoring population at this date (00:00), from Monte Carlo "
            "rollouts of the full hidden state, and the realised labels.",
        ),
    ] = None,
    horizon: HorizonOption = 30,
    counties: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="县区数 / Counties in the simulated area (default: sized to the caseload, "
            "about 90 new cases per township and year, eight townships per county).",
        ),
    ] = None,
    world: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="世界编号 / Draw the world's behaviour (escalation and group drivers, "
            "delays, petitioners' temper, hidden local events) from the documented ranges "
            "with this seed (docs/simulator.md); default: the reference world.",
        ),
    ] = None,
) -> None:
    """模拟信访事项历史 / Simulate the case history of a petition office.

    Writes cases, contacts, actions (the data contract), the known local events
    as calendar.yaml, and simulation.json; hidden drivers (grievance intensity,
    resolvability, agitation, unannounced local events) never reach the files.
    """
    from earlywarn.simulator.export import simulate_to_directory
    from earlywarn.simulator.run import SimulationConfig

    config = SimulationConfig(
        cases=cases,
        start=start.date(),
        end=end.date(),
        seed=seed,
        counties=counties,
        family_seed=world,
    )
    if config.n_days < 1:
        raise typer.BadParameter("--end must not be before --start", param_hint="--end")
    try:
        manifest = simulate_to_directory(
            config, out, file_format.value, truth.date() if truth else None, horizon, _log_progress
        )
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--truth") from error
    rows = manifest["rows"]
    typer.echo(
        f"Simulated 已模拟 {rows['cases']:,} cases, {rows['contacts']:,} contacts, "
        f"{rows['actions']:,} actions -> {out}"
    )
    if "truth" in manifest:
        summary = manifest["truth"]
        typer.echo(
            f"Truth 真值 at {summary['as_of']}: {summary['population']:,} cases, "
            f"max standard error {summary['max_standard_error']:.4f}"
        )


@app.command()
def features(
    ctx: typer.Context,
    data: DataOption,
    as_of: Annotated[
        dt.datetime,
        typer.Option(
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"],
            help="时点 / The as-of moment (office local time); only rows at or before it are used.",
        ),
    ],
    out: Annotated[Path, typer.Option(help="输出文件 / Output file, .parquet or .csv.")],
    mode: Annotated[
        Mode, typer.Option(help="校验模式 / strict or lenient loading (see validate).")
    ] = Mode.LENIENT,
    engine: EngineOption = Engine.EMBEDDED,
    spark_master: MasterOption = None,
    partitions: PartitionsOption = None,
) -> None:
    """计算特征 / Write the features of the scoring population at one moment.

    One row per case of the scoring population (data contract section 4), one
    column per feature of the catalogue (docs/features.md). With `--engine spark`,
    `--out` is a directory of Parquet parts written by the cluster.
    """
    from earlywarn.features.build import build_features
    from earlywarn.features.catalogue import FEATURE_NAMES

    settings: Settings = ctx.obj
    if engine is Engine.SPARK:
        features_on_spark(data, as_of, out, spark_master, partitions)
        return
    if out.suffix not in (".parquet", ".csv"):
        raise typer.BadParameter("the output file must end in .parquet or .csv", param_hint="--out")
    dataset = load_or_exit(data, mode, settings)
    table = build_features(dataset, [as_of])
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".parquet":
        table.write_parquet(out)
    else:
        table.write_csv(out, datetime_format="%Y-%m-%dT%H:%M:%S")
    counted = len(set(table.columns) & set(FEATURE_NAMES))  # not the columns beside them
    typer.echo(f"Features 特征: {table.height:,} cases x {counted} features at {as_of} -> {out}")


def features_on_spark(
    data: Path, as_of: dt.datetime, out: Path, master: str | None, partitions: int | None
) -> None:
    """``features --engine spark``: computed and written by the cluster."""
    from earlywarn.spark.features import spark_features

    fresh_output(out)
    dataset, parallelism = spark_dataset(data, master)
    frame, _ = spark_features(dataset, [as_of], partitions_of(partitions, parallelism))
    frame.write.parquet(str(out))
    rows = dataset.session.read.parquet(str(out)).count()
    typer.echo(f"Features 特征 (spark): {rows:,} cases at {as_of} -> {out}/")
