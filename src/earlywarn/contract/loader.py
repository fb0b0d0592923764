"""Load a dataset directory under the data contract: validate, redact, quarantine.

``load_dataset`` is the one way into the project for case records. In strict
mode any problem fails the load with the full list; in lenient mode the rows
that cannot be used go to a quarantine file with their reason and the rest are
returned, with rows read = rows kept + rows quarantined for every table.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from earlywarn.contract.calendar_read import read_calendar
from earlywarn.contract.cells import neutralised
from earlywarn.contract.checks import (
    CheckedTable,
    check_values,
    original_column,
    problem_column,
    row_issues,
    value_dtype,
)
from earlywarn.contract.csv_lines import LINE
from earlywarn.contract.keys import duplicate_keys
from earlywarn.contract.personal import echoed_expr
from earlywarn.contract.read import (
    RawTable,
    locate_table,
    read_table,
)
from earlywarn.contract.report import (
    PROBLEMS,
    SET_ASIDE_CODES,
    ContractError,
    Severity,
    TableSummary,
    ValidationReport,
)
from earlywarn.contract.spec import TABLES, Kind, Mode, Table

logger = logging.getLogger(__name__)


@dataclass
class Dataset:
    """Typed tables ready for the feature pipeline (times are naive Asia/Shanghai)."""

    path: Path
    cases: pl.DataFrame
    contacts: pl.DataFrame
    actions: pl.DataFrame | None  # None: no handling history in this dataset
    calendar: dict[str, Any] | None
    report: ValidationReport


@dataclass
class _TableState:
    table: Table
    raw: RawTable
    checked: CheckedTable
    issues: pl.DataFrame  # row-level errors of this table, each with its line

    def bad_lines(self) -> pl.Series:
        return self.issues.get_column("line").unique()

    def kept(self) -> pl.DataFrame:
        if not self.issues.height:
            return self.checked.frame
        return self.checked.frame.filter(~pl.col(LINE).is_in(self.bad_lines().implode()))


def load_dataset(
    path: Path, mode: Mode = Mode.STRICT, quarantine_dir: Path | None = None
) -> Dataset:
    """Read and validate the dataset directory ``path``.

    Args:
        path: directory holding cases, contacts and optionally actions and calendar.yaml.
        mode: strict fails on any error; lenient quarantines the rows it cannot use.
        quarantine_dir: where lenient mode writes ``<table>.csv`` of rejected rows.

    Raises:
        FileNotFoundError: ``path`` is not a directory.
        ContractError: strict mode found errors, or a file as a whole is unusable.
    """
    if not path.is_dir():
        raise FileNotFoundError(
            f"{path} is a file, not a dataset directory (数据集应为目录): `earlywarn import` reads "
            "an office's export"
            if path.is_file()
            else f"dataset directory not found (数据集目录不存在): {path}"
        )
    report = ValidationReport(dataset=path, mode=mode.value)
    raws: dict[str, RawTable | None] = {}
    for table in TABLES:
        file, located = locate_table(path, table)
        report.add(located)
        raws[table.name] = read_table(file, table) if file is not None else None
    calendar, calendar_ok = read_calendar(path, report)
    return validate_tables(path, raws, report, mode, quarantine_dir, calendar, calendar_ok)


def typed_table(name: str, frame: pl.DataFrame, columns: list[str] | None = None) -> pl.DataFrame:
    """A table's columns (all, or those named) as the contract types them: how rows that
    were checked once travel typed (the simulator's days, a cluster's partitions)."""
    table = next(t for t in TABLES if t.name == name)
    return frame.select(
        pl.col(column.name).cast(value_dtype(column))
        for column in table.columns
        if columns is None or column.name in columns
    )


def trusted_dataset(
    path: Path, tables: dict[str, pl.DataFrame], calendar: dict[str, Any] | None
) -> Dataset:
    """Tables this project wrote itself in memory (the simulator, inside the value study,
    once per simulated day), typed as the contract types them, without the row checks a
    file from outside gets: the study checks its first day through ``validate_tables``."""
    typed = {table.name: typed_table(table.name, tables[table.name]) for table in TABLES}
    report = ValidationReport(dataset=path, mode="trusted")
    return Dataset(path, typed["cases"], typed["contacts"], typed["actions"], calendar, report)


def validate_tables(
    path: Path,
    raws: dict[str, RawTable | None],
    report: ValidationReport,
    mode: Mode = Mode.STRICT,
    quarantine_dir: Path | None = None,
    calendar: dict[str, Any] | None = None,
    calendar_ok: bool = True,
) -> Dataset:
    """Check tables already read (from a dataset directory, or mapped from an office's
    own export by ``ingest``) exactly as ``load_dataset`` checks its files."""
    states: dict[str, _TableState] = {}
    unusable: dict[str, TableSummary] = {}  # tables absent, or whose file cannot be used
    fatal = not calendar_ok
    for table in TABLES:
        raw = raws.get(table.name)
        if raw is None:
            fatal = fatal or table.required
            unusable[table.name] = TableSummary(table.name, None)
            continue
        report.add(raw.issues)
        if raw.fatal:
            fatal = True
            unusable[table.name] = TableSummary(table.name, raw.path.name, raw.rows_read)
            continue
        checked = check_values(raw)
        report.add(checked.warnings)
        issues = pl.concat(
            [
                raw.issues.filter(  # rows set aside (a warning of lines skipped: no row)
                    pl.col("line").is_not_null() & (pl.col("severity") == Severity.ERROR.value)
                ),
                row_issues(table, raw.path.name, checked.frame),
                duplicate_keys(table, raw.path.name, checked.frame),
            ]
        )
        states[table.name] = _TableState(table, raw, checked, issues)
    if "cases" in states:
        _check_references(states, mode)
    for state in states.values():
        report.add(state.issues.filter(~pl.col("code").is_in(SET_ASIDE_CODES)))
    if fatal or (mode is Mode.STRICT and not _row_errors_free(states)):
        _summarise(report, states, unusable, quarantine_dir=None)
        raise ContractError(report)
    _summarise(report, states, unusable, quarantine_dir if mode is Mode.LENIENT else None)
    actions = states.get("actions")
    return Dataset(
        path=path,
        cases=_typed(states["cases"]),
        contacts=_typed(states["contacts"]),
        actions=_typed(actions) if actions else None,
        calendar=calendar,
        report=report,
    )


def _row_errors_free(states: dict[str, _TableState]) -> bool:
    return all(state.issues.height == 0 for state in states.values())


def _check_references(states: dict[str, _TableState], mode: Mode) -> None:
    """case_id of contacts and actions must name a case; lenient also drops orphans."""
    cases = states["cases"]
    aside = pl.Series("case_id", cases.raw.aside_case_ids, dtype=pl.String)
    all_ids = pl.concat([cases.checked.frame.get_column("case_id").drop_nulls(), aside])
    kept_ids = cases.kept().get_column("case_id")
    for state in states.values():
        if not state.table.references_cases:
            continue
        frame = state.checked.frame
        case_id = pl.col("case_id")
        usable = pl.col(problem_column("case_id")).is_null()
        unknown = usable & ~case_id.is_in(all_ids.implode())
        orphaned = pl.lit(False)
        if mode is Mode.LENIENT and kept_ids.len() < all_ids.len():
            orphaned = usable & ~unknown & ~case_id.is_in(kept_ids.implode())
        code = (
            pl.when(unknown)
            .then(pl.lit("unknown_case"))
            .when(orphaned)
            .then(pl.lit("case_quarantined"))
            .otherwise(pl.lit(None, dtype=pl.String))
        )
        found = frame.filter(code.is_not_null()).select(
            pl.lit(Severity.ERROR.value).alias("severity"),
            pl.lit(state.raw.path.name).alias("file"),
            pl.col(LINE).alias("line"),
            pl.lit("case_id").alias("column"),
            code.alias("code"),
            (pl.lit("'") + pl.col(original_column("case_id")).cast(pl.String) + pl.lit("'")).alias(
                "detail"
            ),
            pl.lit(1, dtype=pl.Int64).alias("count"),
        )
        if found.height:
            state.issues = pl.concat([state.issues, found]).sort("line")


def _summarise(
    report: ValidationReport,
    states: dict[str, _TableState],
    unusable: dict[str, TableSummary],
    quarantine_dir: Path | None,
) -> None:
    for table in TABLES:
        state = states.get(table.name)
        if state is None:
            report.tables.append(unusable[table.name])
            continue
        quarantined = state.bad_lines().len()
        summary = TableSummary(
            table=table.name,
            file=state.raw.path.name,
            rows_read=state.raw.rows_read,
            rows_kept=state.raw.rows_read - quarantined,
            rows_quarantined=quarantined,
        )
        if quarantine_dir is not None:
            summary.quarantine_path = _write_quarantine(state, quarantine_dir)
        if not summary.balanced:  # a bug of ours, never acceptable: rows would be lost
            raise AssertionError(f"row accounting broken for {table.name}: {summary}")
        report.tables.append(summary)
        logger.info(
            "%s: %d read = %d kept + %d quarantined",
            table.name,
            summary.rows_read,
            summary.rows_kept,
            summary.rows_quarantined,
        )


def _write_quarantine(state: _TableState, directory: Path) -> Path | None:
    """Rejected rows as written (personal data masked, text redacted), with reasons."""
    target = directory / f"{state.table.name}.csv"
    if state.issues.height == 0:
        target.unlink(missing_ok=True)  # a stale file from an earlier run would mislead
        return None
    reasons = (
        state.issues.with_columns(
            pl.format(
                "{}: {}",
                pl.col("column").fill_null("row"),
                pl.col("code").replace_strict({c: en for c, (en, _) in PROBLEMS.items()}),
            ).alias("reason")
        )
        .group_by("line", maintain_order=True)
        .agg(pl.col("reason").str.join("; "))
    )
    values = []
    for column in state.table.columns:
        problem = pl.col(problem_column(column.name))
        # Rejected values as written, with ID and phone numbers redacted wherever they
        # are, and a person's name masked.
        written = echoed_expr(pl.col(original_column(column.name)).cast(pl.String))
        if column.kind is Kind.FREE_TEXT:
            written = pl.col(column.name)  # already redacted
        values.append(
            pl.when(problem.fill_null("").str.starts_with("personal_"))
            .then(pl.lit("[已屏蔽 masked]"))
            .otherwise(written)
            .alias(column.name)
        )
    rows = state.checked.frame.select(pl.col(LINE).alias("line"), *values)
    unparsed = state.raw.unparsed.rename({LINE: "line"})
    rejected = (
        reasons.join(rows, on="line", how="left").join(unparsed, on="line", how="left").sort("line")
    )
    directory.mkdir(parents=True, exist_ok=True)
    neutralised(rejected).write_csv(target)  # people open it in a spreadsheet
    return target


def _typed(state: _TableState) -> pl.DataFrame:
    kept = state.kept()
    return kept.select(
        pl.col(column.name).cast(value_dtype(column)) for column in state.table.columns
    )
