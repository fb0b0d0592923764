"""The Typer application, its shared options and helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from earlywarn import __version__
from earlywarn.contract import CONTRACT_VERSION, ContractError, Mode, load_dataset
from earlywarn.contract.loader import Dataset
from earlywarn.logs import configure_logging
from earlywarn.settings import Settings, load_settings

app = typer.Typer(
    name="earlywarn",
    help=(
        "信访事项预警：读取案件记录，计算风险，生成每日风险清单。\n\n"
        "earlywarn: early-warning risk scoring for petition cases. It reads the case "
        "records your office already keeps, checks them against the data contract, and "
        "(as the project grows) scores open cases and builds the daily risk list."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"earlywarn {__version__} (data contract {CONTRACT_VERSION})")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="显示版本 / Show the version and the data contract version.",
        ),
    ] = False,
) -> None:
    """Options shared by every command."""
    settings = load_settings()
    configure_logging(settings.log_level)
    ctx.obj = settings


def is_contract_dataset(data: Path) -> bool:
    return data.is_dir() and any(
        (data / f"cases.{suffix}").exists() for suffix in ("parquet", "csv")
    )


def dataset_path(data: Path, settings: Settings) -> Path:
    """The contract dataset behind ``--data``: the directory itself, or, for an office's
    export (a workbook, GBK CSV files), the dataset it is imported into first
    (``<work dir>/imported/<name>``, merged night after night; lenient)."""
    if is_contract_dataset(data) or not data.exists():
        return data
    from earlywarn.ingest.run import MappingError, SourceError, import_source

    target = settings.work_dir / "imported" / data.stem
    typer.echo(f"Importing 导入 {data} -> {target}", err=True)
    try:
        result = import_source(data, target, Mode.LENIENT, settings.quarantine_dir(target))
    except (SourceError, MappingError, ContractError) as error:
        typer.echo(f"error 错误: {error}", err=True)
        raise typer.Exit(1) from error
    for summary in result.dataset.report.tables:
        if summary.rows_quarantined:
            typer.echo(
                f"warning 警告: {summary.table}: {summary.rows_quarantined:,} rows quarantined "
                f"-> {summary.quarantine_path}",
                err=True,
            )
    return target


def load_or_exit(data: Path, mode: Mode, settings: Settings) -> Dataset:
    data = dataset_path(data, settings)
    try:
        return load_dataset(data, mode, settings.quarantine_dir(data))
    except (FileNotFoundError, ContractError) as error:
        typer.echo(f"error 错误: {error}", err=True)
        raise typer.Exit(1) from error


DataOption = Annotated[
    Path,
    typer.Option(
        "--data",
        help="数据集目录 / Dataset directory, or an office's export (imported first).",
    ),
]
HorizonOption = Annotated[int, typer.Option(min=1, help="预测期（天）/ Horizon in days.")]
