"""The Typer application, its shared options and helpers.

Commands are loaded when they are asked for: ``earlywarn --help`` and
``--version`` import none of them (no Polars, LightGBM, MLflow or FastAPI), and a
command imports the module that defines it. ``COMMANDS`` names each command's
module and the sentence ``--help`` shows for it (a test holds it equal to the
first sentence of the command's own help).
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from earlywarn import __version__
from earlywarn.commands.usage_errors import UsageError, in_both_languages
from earlywarn.contract.rules import TARGETS
from earlywarn.contract.spec import CONTRACT_VERSION

if TYPE_CHECKING:
    from earlywarn.contract import Dataset, Mode
    from earlywarn.ingest.run import ImportResult
    from earlywarn.settings import Settings

# A date in an export's file name (export-20261201, 信访2026-12-01): a new name each night.
DATED = re.compile(r"(19|20)\d{2}[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])")

# command -> (the module that defines it, the first sentence of its help)
COMMANDS: dict[str, tuple[str, str]] = {
    "audit": ("earlywarn.commands.serving", "审计日志 / The audit log."),
    "daily": ("earlywarn.commands.daily", "每日任务 / The nightly job: import, validate, build and store the day's list, monitor it, and on the configured weekday retrain a challenger."),
    "evaluate-policy": ("earlywarn.commands.value", "评估清单价值 / What the list is worth: visits prevented by working each policy's list."),
    "features": ("earlywarn.commands.data", "计算特征 / Write the features of the scoring population at one moment."),
    "import": ("earlywarn.commands.ingest", "导入信访系统导出文件 / Import an office's export (Excel, GBK CSV) as a contract dataset."),
    "keys": ("earlywarn.commands.keys", "API 密钥 / API keys: create, list and revoke."),
    "models": ("earlywarn.commands.lifecycle", "模型版本 / Every registered version of each target: its aliases (champion, challenger, previous), what it was trained up to, its backtest figures, and how it compared with the champion of its day (or why it could not)."),
    "monitor": ("earlywarn.commands.monitoring", "模型监测 / Monitor a day: input drift per feature (PSI against the bins frozen at training), score drift against the earlier days, data quality, and how the latest matured list turned out."),
    "promote": ("earlywarn.commands.models", "将模型设为正式版本 / Make a version the champion if it beats the current one."),
    "retrain": ("earlywarn.commands.lifecycle", "重新训练挑战者 / Train on the latest data and register each new version as the `challenger`."),
    "risk-list": ("earlywarn.commands.serving", "生成每日风险清单 / Build, store and export the risk list of a day."),
    "rollback": ("earlywarn.commands.lifecycle", "回滚正式版本 / Move the champion back to the version it replaced (`previous`)."),
    "runs": ("earlywarn.commands.daily", "每日任务记录 / The nightly job's runs, newest first: the day, when it started and ended (office time), how it ended and what it said; exit 1 when the newest failed or was stopped."),
    "run": ("earlywarn.commands.main_job", "运行主流程 / The main job: simulate (when no dataset is given), validate, train, promote, build the day's risk list, then start the service with a new admin key."),
    "schema": ("earlywarn.commands.data", "输出数据合同的 JSON Schema / Print the data contract as JSON Schema."),
    "score": ("earlywarn.commands.scoring", "评分 / Write the score file (data contract section 5) for the scoring population."),
    "serve": ("earlywarn.commands.serving", "启动评分服务 / Start the score API and the risk-list service (uvicorn)."),
    "simulate": ("earlywarn.commands.data", "模拟信访事项历史 / Simulate the case history of a petition office."),
    "store": ("earlywarn.commands.store", "数据库 / The store: copy it to another database."),
    "train": ("earlywarn.commands.models", "训练并登记模型 / Train one model per target, backtest it, register it in MLflow."),
    "validate": ("earlywarn.commands.data", "检查数据集是否符合数据合同 / Check a dataset against the data contract."),
}  # fmt: skip


class LazyCommands(TyperGroup):
    """A group whose commands are imported when one is run, and listed without it."""

    listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        found = super().get_command(ctx, cmd_name)
        if found is not None or cmd_name not in COMMANDS:
            return found
        module, line = COMMANDS[cmd_name]
        if self.listing:  # --help: the line, not the module
            return TyperCommand(cmd_name, help=line, short_help=line)
        importlib.import_module(module)  # registers its commands on ``app``
        loaded = typer.main.get_group(app)
        self.commands.update(loaded.commands)
        return self.commands.get(cmd_name)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except UsageError as error:
            raise in_both_languages(error) from None

    def invoke(self, ctx: Any) -> Any:
        try:  # a command's own options are parsed here
            return super().invoke(ctx)
        except UsageError as error:
            raise in_both_languages(error) from None

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = False


app = typer.Typer(
    cls=LazyCommands,
    name="earlywarn",
    help=(
        "信访事项预警：读取案件记录，计算风险，生成每日风险清单。\n\n"
        "earlywarn: early-warning risk scoring for petition cases. It reads the case "
        "records your office already keeps, checks them against the data contract, "
        "scores every open case and builds the daily risk list, each case with its reasons "
        "and the handling step that is missing."
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
    import logging

    from earlywarn.logs import configure_logging
    from earlywarn.settings import SettingsError, load_settings, unknown_variables

    try:
        settings = load_settings()
    except SettingsError as error:
        typer.echo(f"error 错误: {error}", err=True)
        raise typer.Exit(2) from None
    configure_logging(settings.log_level)
    for name in unknown_variables():
        logging.getLogger("earlywarn").warning(
            "%s names no setting and is ignored (未知的环境变量，已忽略)", name
        )
    ctx.obj = settings


def is_contract_dataset(data: Path) -> bool:
    """A directory of the contract's tables: a Parquet file of one of them (without its
    cases the loader then names what is missing), or a ``cases.csv`` whose header names
    ``case_id``. An office's own export saved as ``cases.csv`` (Chinese headers, GBK)
    is imported instead, like any other export."""
    if not data.is_dir():
        return False
    if any((data / f"{table}.parquet").exists() for table in ("cases", "contacts", "actions")):
        return True
    cases = data / "cases.csv"
    if not cases.is_file():
        return False
    import csv

    from earlywarn.contract.read import read_header

    try:
        return "case_id" in read_header(cases)
    except (UnicodeDecodeError, csv.Error):  # not the contract's UTF-8: an office's export
        return False


class ExportRefusedError(Exception):
    """An office's export that could not be imported: the message says why."""


def imported_dataset(data: Path, settings: Settings) -> tuple[Path, ImportResult | None]:
    """The contract dataset behind ``--data``: the directory itself, or, for an office's
    export (a workbook, GBK CSV files), the dataset it is imported into first
    (``<work dir>/imported/<name>``, merged night after night; lenient), with what the
    import counted."""
    url = database_url(data)
    if url is None and (is_contract_dataset(data) or not data.exists()):
        return data, None
    one_table = url is None and data.is_file() and data.stem in ("cases", "contacts", "actions")
    if one_table and (data.suffix == ".parquet" or is_contract_dataset(data.parent)):
        raise ExportRefusedError(
            f"{data}: one table of a dataset; give its directory, --data {data.parent} "
            "(请指定数据集所在的目录，而不是其中一个文件)"
        )
    from earlywarn.contract import ContractError, Mode
    from earlywarn.ingest.mapping_file import MappingFileError, read_mapping
    from earlywarn.ingest.run import MappingError, SourceError, import_source
    from earlywarn.ingest.sources import shown_source

    name = settings.import_name or ("database" if url else data.stem)
    target = settings.work_dir / "imported" / name
    typer.echo(f"Importing 导入 {shown_source(url) if url else data} -> {target}", err=True)
    if settings.import_name is None and DATED.search(data.stem):
        typer.echo(
            f"warning 警告: the export's name {data.name} carries a date, so each night's "
            "export is kept apart and not merged with the ones before (导出文件名含日期，"
            "各晚的导出不会合并); set import_name (EARLYWARN_IMPORT_NAME) to merge them",
            err=True,
        )
    try:
        mapping = read_mapping(settings.import_mapping) if settings.import_mapping else None
        result = import_source(
            url or data, target, Mode.LENIENT, settings.import_quarantine_dir(target), mapping
        )
    except (SourceError, MappingError, MappingFileError, ContractError) as error:
        raise ExportRefusedError(str(error)) from error
    say_emptied(result)
    for summary in result.dataset.report.tables:
        if summary.rows_quarantined:
            typer.echo(
                f"warning 警告: {summary.table}: {summary.rows_quarantined:,} rows quarantined "
                f"-> {summary.quarantine_path}",
                err=True,
            )
    return target, result


def database_url(data: Path) -> str | None:
    """``--data``/``--source`` given as a database URL (``sqlite:///cases.db``,
    ``postgresql+psycopg://reader@host/cases``), else None. A path option folds the
    slashes (``sqlite:/cases.db``): SQLite's file is found as an absolute path first
    (``sqlite:////srv/cases.db``), else relative to here."""
    found = re.match(r"^([a-z][a-z0-9+]*):/+(.*)$", str(data))
    if found is None or data.exists():
        return None
    scheme, rest = found.groups()
    if scheme.split("+")[0] == "sqlite":
        absolute = Path("/" + rest)
        return f"{scheme}:///{absolute if absolute.exists() else rest}"
    return f"{scheme}://{rest}"


def say_emptied(result: ImportResult) -> None:
    """The columns an import left empty that held values before (``ImportResult.emptied``),
    those the export lacked, whose values were kept, and the export's columns of personal
    data, which were not read."""
    for column in result.emptied:
        typer.echo(f"warning 警告: the export left {column} empty 导出中该列为空", err=True)
    for column in result.kept:
        typer.echo(
            f"warning 警告: the export has no column for {column}: the values imported "
            "before are kept, and cases new tonight have none; is a column missing from "
            "the export or the mapping? (导出缺少该列，已保留此前导入的值)",
            err=True,
        )
    personal = result.personal_headers()
    if personal:
        typer.echo(
            f"warning 警告: the export holds personal data, not read and not kept: "
            f"{', '.join(personal)}; ask the case system to leave these columns out of the "
            "export (导出文件含个人信息列，未读取也未保存，请在导出时去掉这些列)",
            err=True,
        )


def day_asked(date: dt.datetime | None, why: str, days_back: int = 0) -> dt.date:
    """The day of a ``--date`` option, by default today less ``days_back``; a day after
    today is refused (exit 2): a mistyped year, or a clock gone wrong, would top every
    page and metric as the latest day. ``why``: what the command does with a day."""
    from earlywarn.contract.rules import office_now

    today = office_now().date()
    day = date.date() if date else today - dt.timedelta(days=days_back)
    if day > today:
        typer.echo(f"error 错误: {day} is after today ({today}); {why} (日期晚于今天)", err=True)
        raise typer.Exit(2)
    return day


def checked_target(target: str) -> str:
    """``--target``: one of the two targets, or the command's usage error."""
    if target not in TARGETS:
        raise typer.BadParameter("escalation or collective (越级访或集体访)", param_hint="--target")
    return target


def asked_versions(text: str | None) -> dict[str, str]:
    """``--model escalation=3,collective=2``: the versions asked for, by target."""
    asked = {}
    for part in filter(str.strip, (text or "").split(",")):
        target, _, version = (piece.strip() for piece in part.partition("="))
        if target not in TARGETS or not version:
            raise typer.BadParameter(
                f"{part!r}: write target=version, e.g. escalation=3 (格式：目标=版本)",
                param_hint="--model",
            )
        asked[target] = version
    return asked


def say_replaced(replaced: Path | None) -> None:
    """Where a rerun moved the day's earlier, other list (``RiskListResult.replaced``)."""
    if replaced is not None:
        typer.echo(f"  the day's earlier list 当日此前的清单: {replaced}")


def dataset_path(data: Path, settings: Settings) -> Path:
    """``imported_dataset``'s path, or the command's end with the import's reason."""
    try:
        return imported_dataset(data, settings)[0]
    except ExportRefusedError as error:
        typer.echo(f"error 错误: {error}", err=True)
        raise typer.Exit(1) from error


def load_or_exit(data: Path, mode: Mode, settings: Settings) -> Dataset:
    from earlywarn.contract import ContractError, load_dataset

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
