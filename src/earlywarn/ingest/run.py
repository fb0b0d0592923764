"""``earlywarn import``: an office's export, read, mapped and checked, as a contract dataset.

The mapped tables go through the contract's own checks (``validate_tables``) before
anything is written, personal-data guards included; every problem is then named in
the office's terms: the workbook and sheet (or CSV file), the row as the office sees
it, and the source header beside the contract column.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import polars as pl

from earlywarn.contract import Dataset, Mode
from earlywarn.contract.calendar_read import CALENDAR_FILE, read_calendar
from earlywarn.contract.csv_lines import LINE
from earlywarn.contract.loader import validate_tables
from earlywarn.contract.personal import echoed_line, echoed_text
from earlywarn.contract.read import RawTable, select_contract_columns
from earlywarn.contract.report import ContractError, Severity, ValidationReport, issue_frame
from earlywarn.contract.spec import TABLES
from earlywarn.ingest.database_source import read_database
from earlywarn.ingest.mapping import (
    MappedTable,
    MappingError,
    NoTableError,
    classify,
    copies_of_one_table,
    map_table,
)
from earlywarn.ingest.mapping_file import MappingFile
from earlywarn.ingest.provenance import in_source_terms, locate_quarantine, unknown_categories
from earlywarn.ingest.result import IMPORT_REPORT, ImportResult, write_import_report
from earlywarn.ingest.sources import (
    ROW,
    SourceError,
    is_database,
    read_source,
)
from earlywarn.ingest.vocabulary import Vocabulary
from earlywarn.ingest.write import ExportShrankError, write_merged

logger = logging.getLogger(__name__)
__all__ = [
    "IMPORT_REPORT", "ExportShrankError", "ImportResult", "MappingError", "SourceError",
    "import_source",
]  # fmt: skip


def import_source(
    source: Path | str,
    out: Path,
    mode: Mode = Mode.STRICT,
    quarantine_dir: Path | None = None,
    mapping: MappingFile | None = None,
    accept_removals: bool = False,
) -> ImportResult:
    """Read ``source`` (a workbook, a CSV file or a directory of them, or a database URL
    with the mapping file's ``database`` section), map it onto the contract, check it,
    and write the dataset to ``out`` as Parquet.

    Raises:
        SourceError, MappingError: a file or a table cannot be used at all.
        ContractError: the contract's checks failed (strict), named in source terms.
        ExportShrankError: merged into ``out``, the export would remove more than a
            small share of a table's earlier rows, or its newest record is older than
            the dataset's (``accept_removals`` to merge anyway).
    """
    vocabulary = Vocabulary.of(mapping)
    skipped: list[str] = []
    directory: Path | None = None  # a directory may carry the office's calendar.yaml
    if isinstance(source, str) and is_database(source):
        tables = read_database(source, mapping)
        where = Path("database")
    else:
        where = Path(source)
        tables = read_source(where, vocabulary, skipped)
        directory = where if where.is_dir() else None
    mapped, read = [], []
    for table in tables:
        try:
            mapped.append(map_table(table, classify(table, vocabulary), vocabulary))
        except NoTableError as error:  # a statistics sheet, a list of dropdown values
            skipped.append(f"{error}; not read (表头不对应任何数据表，未读取)")
        else:
            read.append(table)
    tables = read
    if not mapped:
        raise SourceError(
            f"{source}: no CSV file or workbook with a table in it"
            + (f" ({skipped[-1]})" if skipped else "")
        )
    copies = copies_of_one_table(mapped)
    if copies:
        raise SourceError(
            f"{'; '.join(copies)}: two exports of one table in one place? Keep one (the "
            "newest) and import again; nothing written (同一张表有两份导出，请只保留最新的一份)"
        )
    report = ValidationReport(dataset=where, mode=mode.value)
    report.add(unknown_categories(mapped))
    report.add(issue_frame([note for m in mapped for note in m.notes]))
    raws, provenance = _raw_tables(where, mapped, report)
    calendar, calendar_ok = read_calendar(directory, report) if directory else (None, True)
    try:
        dataset = validate_tables(out, raws, report, mode, quarantine_dir, calendar, calendar_ok)
    except ContractError as error:
        error.report.issues = _in_office_terms(error.report.issues, provenance, mapped, where)
        raise ContractError(error.report) from error
    report.issues = _in_office_terms(report.issues, provenance, mapped, where)
    locate_quarantine(report, provenance)
    result = ImportResult(
        dataset,
        [
            (m.origin, m.table.name, m.frame.height, t.encoding)
            for m, t in zip(mapped, tables, strict=True)
        ],
        {m.origin: m.unmapped_headers for m in mapped if m.unmapped_headers},
    )
    for m in mapped:
        for (column, value), count in m.unmapped_values.items():
            key = (column, echoed_text(value))  # said on screen and in the import's report
            result.unmapped_values[key] = result.unmapped_values.get(key, 0) + count
    result.skipped = skipped
    result.left_out = {t.origin: t.skipped_rows for t in tables if t.skipped_rows}
    _refuse_nothing_usable(dataset, mapped, report)
    complete = where == Path("database") and (mapping is None or mapping.database_complete)
    present = _keys_held(mapped) if complete else None
    supplied = {
        t.name: {c for m in mapped if m.table.name == t.name for c in m.headers} for t in TABLES
    }
    result.files, result.merged, (result.emptied, result.kept) = write_merged(
        dataset, out, source, accept_removals, supplied, present
    )
    if calendar is not None and directory is not None:
        shutil.copyfile(directory / CALENDAR_FILE, out / CALENDAR_FILE)
        result.files.append(out / CALENDAR_FILE)
    result.files.append(write_import_report(result, out))
    return result


def _in_office_terms(
    issues: pl.DataFrame, provenance: pl.DataFrame, mapped: list[MappedTable], where: Path
) -> pl.DataFrame:
    """The issues named by source file, row and header; a missing column said once, by
    the sheet or file that lacks it (the contract's own check names the mapped table)."""
    labels = [_label(where, table.name) for table in TABLES]
    said = issues.filter(~((pl.col("code") == "missing_column") & pl.col("file").is_in(labels)))
    return in_source_terms(said, provenance, mapped)


def _refuse_nothing_usable(
    dataset: Dataset, mapped: list[MappedTable], report: ValidationReport
) -> None:
    """Lenient mode quarantines rows and goes on; an export none of whose cases or
    contacts could be used is not a dataset to write (the quarantine says why)."""
    for name, kept in (("cases", dataset.cases), ("contacts", dataset.contacts)):
        read = sum(m.frame.height for m in mapped if m.table.name == name)
        if read and kept.is_empty():
            first = "; ".join(report.error_lines(2))
            raise SourceError(
                f"{name}: none of the {read:,} rows read could be used, all quarantined "
                f"({first}); nothing written"
            )


def _label(source: Path, table: str) -> str:
    """How a mapped table is named until its issues are put back in source terms."""
    return f"{source.name} ({table})"


def _raw_tables(
    source: Path, mapped: list[MappedTable], report: ValidationReport
) -> tuple[dict[str, RawTable | None], pl.DataFrame]:
    """One raw table per contract table (the sources of each concatenated, numbered by
    LINE), and which source row each LINE is."""
    raws: dict[str, RawTable | None] = {}
    lineage = []
    for table in TABLES:
        parts = [m for m in mapped if m.table.name == table.name]
        if not parts:
            raws[table.name] = None
            if table.required:
                report.add(issue_frame([
                    {"severity": Severity.ERROR.value, "file": str(source), "code": "missing_file",
                     "detail": f"no sheet, file or query holds the {table.name} table"}
                ]))  # fmt: skip
            continue
        for part in parts:
            missing = [c.name for c in table.columns if c.required and c.name not in part.headers]
            unused = ", ".join(part.unmapped_headers) or "none"
            if missing:
                report.add(issue_frame([
                    {"severity": Severity.ERROR.value, "file": part.origin, "column": name,
                     "code": "missing_column",
                     "detail": f"no header is read as {name} (headers not used: {unused}); a "
                     f"mapping file names it: headers: {{{table.name}: {{HEADER: {name}}}}}"}
                    for name in missing
                ]))  # fmt: skip
        frame = (
            pl.concat(
                [p.frame.with_columns(pl.lit(p.origin).alias("_origin")) for p in parts],
                how="diagonal_relaxed",
            )
            .with_row_index(LINE, offset=1)
            .with_columns(pl.col(LINE).cast(pl.Int64))
        )
        label = _label(source, table.name)
        lineage.append(
            frame.select(
                pl.lit(label).alias("file"),
                pl.col(LINE).alias("line"),
                pl.col("_origin").alias("origin"),
                pl.col(ROW).alias("row"),
            )
        )
        aside = _set_aside(parts, label, first_line=frame.height + 1)
        lineage.append(aside.select("file", "line", "origin", "row"))
        issues = issue_frame([
            {"severity": Severity.ERROR.value, "file": label, "line": line, "code": code,
             "detail": detail}
            for line, code, detail in aside.select("line", "code", "detail").iter_rows()
        ])  # fmt: skip
        unparsed = aside.select(pl.col("line").alias(LINE), echoed_line(pl.col("raw")))
        raw = RawTable(table, Path(label), frame.drop("_origin", ROW), issues, unparsed)
        if table.name == "cases":
            raw.aside_case_ids = [r.case_id for p in parts for r in p.set_aside if r.case_id]
        raws[table.name] = select_contract_columns(raw)
    return raws, pl.concat(lineage) if lineage else pl.DataFrame()


def _set_aside(parts: list[MappedTable], label: str, first_line: int) -> pl.DataFrame:
    """The rows the sources could not read as records (a CSV row of the wrong width, a
    sheet's row with an error cell), numbered after the table's parsed rows."""
    rows = [(p.origin, row) for p in parts for row in p.set_aside]
    return pl.DataFrame(
        {
            "file": [label] * len(rows),
            "line": list(range(first_line, first_line + len(rows))),
            "origin": [origin for origin, _ in rows],
            "row": [row.line for _, row in rows],
            "raw": [row.text for _, row in rows],
            "code": [row.code for _, row in rows],
            "detail": [row.detail for _, row in rows],
        },
        schema={"file": pl.String, "line": pl.Int64, "origin": pl.String, "row": pl.Int64,
                "raw": pl.String, "code": pl.String, "detail": pl.String},
    )  # fmt: skip


def _keys_held(mapped: list[MappedTable]) -> dict[str, list[str]]:
    """Each table's keys as the source holds them, usable or not."""
    held: dict[str, list[str]] = {}
    for part in mapped:
        key = part.table.key
        if key in part.frame.columns:
            values = part.frame.get_column(key).drop_nulls().str.strip_chars().to_list()
            held.setdefault(part.table.name, []).extend(values)
    return held
