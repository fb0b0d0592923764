"""``earlywarn import``: an office's export into a contract dataset."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from earlywarn.commands.app import app, say_emptied
from earlywarn.commands.data import print_report, refuse_dataset
from earlywarn.contract.spec import Mode

if TYPE_CHECKING:  # the import's stack (Polars, fastexcel) loads when the command runs
    from earlywarn.ingest.run import ImportResult
    from earlywarn.settings import Settings


@app.command("import")
def import_command(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Argument(
            help="导出文件 / An Excel workbook, a CSV file, or a directory of them (UTF-8, "
            "UTF-8 with BOM, GBK or GB18030); or a database URL (SQLAlchemy: "
            "postgresql+psycopg://, mysql+pymysql://, sqlite:///) with --mapping naming "
            "its tables.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path | None, typer.Option(help="数据集目录 / Where to write the contract dataset.")
    ] = None,
    mode: Annotated[
        Mode, typer.Option(help="校验模式 / strict or lenient, as in validate.")
    ] = Mode.STRICT,
    mapping: Annotated[
        Path | None,
        typer.Option(
            help="映射文件 / A YAML mapping file, added to the built-in defaults (default: "
            "the import_mapping setting)."
        ),
    ] = None,
    suggest_mapping: Annotated[
        bool,
        typer.Option(
            "--suggest-mapping",
            help="生成映射文件 / Print a mapping file to fill in, with every header and value "
            "that could not be mapped, instead of importing.",
        ),
    ] = False,
    accept_removals: Annotated[
        bool,
        typer.Option(
            "--accept-removals",
            help="接受删除 / Merge even if the export no longer holds many rows an earlier "
            "import of its cases had (an export cut short?), or is older than what was "
            "merged before (an export arriving late?): both refused otherwise.",
        ),
    ] = False,
) -> None:
    """导入信访系统导出文件 / Import an office's export (Excel, GBK CSV) as a contract dataset.

    Tables are found by their headers (Chinese or English), values and receiving
    offices' names are mapped onto the contract's codes, timestamps are read in the
    forms offices type them; then the contract's checks run before anything is
    written. Problems are named by workbook, sheet, row and source header.
    """
    from earlywarn.contract import ContractError
    from earlywarn.ingest.mapping_file import MappingFileError, read_mapping
    from earlywarn.ingest.run import MappingError, SourceError, import_source
    from earlywarn.ingest.suggest import suggest_mapping as suggest

    settings: Settings = ctx.obj
    try:
        # The setting's file when none is given: the command a refused night prints
        # must read the export as the night did.
        mapping = mapping if mapping is not None else settings.import_mapping
        chosen = read_mapping(mapping) if mapping is not None else None
        if suggest_mapping:
            typer.echo(suggest(source, chosen), nl=False)
            return
        if out is None:
            raise typer.BadParameter("--out is needed to import", param_hint="--out")
        if out.exists() and not out.is_dir():
            raise typer.BadParameter(
                f"{out} is a file, not a dataset directory", param_hint="--out"
            )
        quarantine = settings.import_quarantine_dir(out)
        result = import_source(source, out, mode, quarantine, chosen, accept_removals)
    except (SourceError, MappingError, MappingFileError) as error:
        typer.echo(f"error 错误: {error}", err=True)
        raise typer.Exit(1) from error
    except ContractError as error:
        advice = (
            "fix the export, or import with --mode lenient"
            if mode is Mode.STRICT
            else "fix the export (or a mapping file): no row can replace a missing table or column"
        )
        refuse_dataset(error, settings, _issues_file(settings, out), advice)
    _print_sources(result)
    print_report(result.dataset.report, settings, _issues_file(settings, out))
    typer.echo(f"Dataset 数据集 -> {out}")


def _issues_file(settings: Settings, out: Path | None) -> Path | None:
    """Where every problem of an import is saved (the screen shows the first 50)."""
    return None if out is None else settings.reports_dir / f"import-{out.name}.csv"


def _print_sources(result: ImportResult) -> None:
    for origin, table, rows, encoding in result.sources:
        typer.echo(f"  {origin}: {table}, {rows:,} rows" + (f", {encoding}" if encoding else ""))
    for origin, headers in result.unmapped_headers.items():
        typer.echo(f"warning 警告: {origin}: headers not used 未使用的表头: {', '.join(headers)}")
    for table, counts in result.merged.items():
        typer.echo(
            f"  {table}: {counts.added:,} added 新增, {counts.changed:,} changed 更新, "
            f"{counts.unchanged:,} unchanged 未变, {counts.kept:,} kept from before 保留"
            + (f", {counts.removed:,} no longer exported 已不在导出中" if counts.removed else "")
        )
    say_emptied(result)
    for origin, rows in result.left_out.items():
        typer.echo(
            f"  {origin}: {rows:,} blank, title, total or signature rows left out "
            "空行、标题、合计或落款行未导入"
        )
    for sheet in result.skipped:
        typer.echo(f"warning 警告: not read 未读取: {sheet}", err=True)
    for (column, value), count in sorted(result.unmapped_values.items()):
        typer.echo(
            f"warning 警告: {column}: unmapped value 未识别的值 {value!r} ({count:,} rows); "
            f"map it in a mapping file: values: {{{column}: {{{value!r}: CODE}}}}",
            err=True,
        )
