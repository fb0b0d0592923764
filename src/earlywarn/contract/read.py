"""Read one table file as it is, keeping each row's place in the file.

CSV is read with every column as text so that a bad value is reported as
written, not as whatever a type guess made of it. Parquet keeps its own types;
the checks accept both.
"""

from __future__ import annotations

import codecs
import csv
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv

from earlywarn.contract.csv_lines import (
    BLOCK_BYTES,
    FIELD_LIMIT,
    LINE,
    attach_lines,
    count_newlines,
    unclosed_quote_line,
    without_empty_rows,
)
from earlywarn.contract.parts import PartsError, read_parts
from earlywarn.contract.personal import echoed_line
from earlywarn.contract.report import Severity, empty_issues, issue_frame
from earlywarn.contract.spec import Table

logger = logging.getLogger(__name__)

_CHUNK_BYTES = 16 * 1024 * 1024


@dataclass
class RawTable:
    """A table file as read, before any value is checked."""

    table: Table
    path: Path
    frame: pl.DataFrame  # the contract's columns that are present, plus LINE
    issues: pl.DataFrame = field(default_factory=empty_issues)
    # Rows that could not even be split into fields: LINE, raw (redacted), reason.
    unparsed: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema={LINE: pl.Int64, "raw": pl.String})
    )
    fatal: bool = False  # the file as a whole cannot be used
    # case_ids of the cases table's rows set aside before any check (an export's row
    # with an Excel error cell): a contact of one is of a case quarantined, not unknown.
    aside_case_ids: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return self.frame.height + self.unparsed.height


def locate_table(dataset: Path, table: Table) -> tuple[Path | None, pl.DataFrame]:
    """The file that holds ``table``: Parquet wins over CSV, with a warning."""
    parquet, csv_path = dataset / f"{table.name}.parquet", dataset / f"{table.name}.csv"
    if parquet.exists() and csv_path.exists():
        warning = issue_frame(
            [
                {
                    "severity": Severity.WARNING.value,
                    "file": parquet.name,
                    "code": "both_formats",
                    "detail": f"{csv_path.name} ignored",
                }
            ]
        )
        return parquet, warning
    for candidate in (parquet, csv_path):
        if candidate.exists():
            return candidate, empty_issues()
    if table.required:
        error = issue_frame(
            [
                {
                    "severity": Severity.ERROR.value,
                    "file": f"{table.name}.parquet | {table.name}.csv",
                    "code": "missing_file",
                    "detail": f"in {dataset}",
                }
            ]
        )
        return None, error
    return None, empty_issues()


def regular_file_problem(path: Path) -> str | None:
    """Why a dataset file is not read, or None: only regular files that sit in the dataset
    directory itself are (a symbolic link could point anywhere: ``/etc/passwd``)."""
    if path.is_symlink():
        return "a symbolic link is not read; copy the file into the dataset directory"
    if not path.is_file():
        return "not a regular file"
    return None


def read_table(path: Path, table: Table) -> RawTable:
    """Read ``path`` (CSV or Parquet) and keep only the contract's columns."""
    in_parts = path.suffix == ".parquet" and path.is_dir() and not path.is_symlink()
    problem = None if in_parts else regular_file_problem(path)
    if problem is not None:
        return _file_error(path, table, "not_a_regular_file", problem)
    raw = _read_parquet(path, table) if path.suffix == ".parquet" else _read_csv(path, table)
    if raw.fatal:
        return raw
    return select_contract_columns(raw)


def _file_error(path: Path, table: Table, code: str, detail: str = "") -> RawTable:
    issues = issue_frame(
        [{"severity": Severity.ERROR.value, "file": path.name, "code": code, "detail": detail}]
    )
    return RawTable(
        table, path, pl.DataFrame({LINE: []}, schema={LINE: pl.Int64}), issues, fatal=True
    )


def _read_parquet(path: Path, table: Table) -> RawTable:
    try:
        frame = read_parts(path) if path.is_dir() else pl.read_parquet(path)
    except PartsError as error:
        return _file_error(path, table, "unreadable", str(error))
    except Exception as error:  # any reader failure means the file is unusable
        return _file_error(path, table, "unreadable", str(error).splitlines()[0])
    nested = [
        name
        for name, dtype in frame.schema.items()
        if name in table.column_names and (dtype.is_nested() or dtype == pl.Object)
    ]
    if nested:
        issues = issue_frame([
            {"severity": Severity.ERROR.value, "file": path.name, "column": name,
             "code": "unsupported_type", "detail": str(frame.schema[name])}
            for name in nested
        ])  # fmt: skip
        empty = pl.DataFrame({LINE: []}, schema={LINE: pl.Int64})
        return RawTable(table, path, empty, issues, fatal=True)
    # The row numbers' own column replaces one of that name (not a contract column).
    frame = frame.drop(LINE, strict=False).with_row_index(LINE, offset=1)
    return RawTable(table, path, frame.with_columns(pl.col(LINE).cast(pl.Int64)))


def _read_csv(path: Path, table: Table) -> RawTable:
    if path.stat().st_size == 0:
        return _file_error(path, table, "empty_file")
    try:
        header = read_header(path)
        if not header:
            return _file_error(path, table, "empty_file")
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:
            return _file_error(path, table, "repeated_column", ", ".join(repeated))
        arrow, unparsed = _parse_csv(path, header)
    except csv.Error as error:  # a header that never ends (an unclosed quote)
        return _file_error(path, table, "unreadable", f"line 1: {error}")
    except (UnicodeDecodeError, pa.ArrowInvalid) as error:
        # Arrow checks UTF-8 while parsing; only then is the slow scan worth its
        # cost, to tell the line where the file stops being UTF-8.
        where = _first_non_utf8_line(path)
        if where is None:
            return _file_error(path, table, "unreadable", str(error).splitlines()[0])
        return _file_error(path, table, "not_utf8", where)
    scan = count_newlines(path)
    if scan.quotes % 2:
        line = unclosed_quote_line(path)
        if line is not None:
            return _file_error(path, table, "unclosed_quote", f"line {line}")
    frame = pl.from_arrow(arrow)
    assert isinstance(frame, pl.DataFrame)
    records = frame.height + len(unparsed)
    embedded = scan.newlines - 1 - records + (0 if scan.ends_with_newline else 1)
    frame, unparsed = attach_lines(frame, unparsed, embedded_newlines=embedded > 0)
    frame, empty_rows = without_empty_rows(frame, path.name)
    unparsed_frame = pl.DataFrame(
        {LINE: [line for line, _, _ in unparsed], "raw": [text for _, text, _ in unparsed]},
        schema={LINE: pl.Int64, "raw": pl.String},
    ).with_columns(echoed_line("raw"))
    issues = issue_frame(
        [
            {
                "severity": Severity.ERROR.value,
                "file": path.name,
                "line": line,
                "code": "wrong_field_count",
                "detail": f"{actual} field(s), the header has {len(header)}",
            }
            for line, _, actual in unparsed
        ]
        + empty_rows
    )
    return RawTable(table, path, frame, issues, unparsed_frame)


def _first_non_utf8_line(path: Path) -> str | None:
    """None when the file is UTF-8, else where it stops being UTF-8 and what it looks like."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    newlines = 0
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK_BYTES):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                line = newlines + chunk.count(b"\n", 0, error.start) + 1
                return f"line {line}; {_guess_encoding(path)}"
            newlines += chunk.count(b"\n")
    return None


def _guess_encoding(path: Path) -> str:
    with path.open("rb") as stream:
        sample = stream.read(1024 * 1024)
    try:
        sample.decode("gb18030")
    except UnicodeDecodeError:
        return "save the export as UTF-8 (CSV UTF-8) and try again"
    return (
        "it looks like GBK/GB18030, common in exports from Chinese office systems: "
        f"convert it with `iconv -f GB18030 -t UTF-8 {path.name} > {path.stem}.utf8.csv`"
    )


def read_header(path: Path) -> list[str]:
    """A CSV file's column names, as the contract reads them (UTF-8, a BOM allowed)."""
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
    with path.open(encoding="utf-8-sig", newline="") as stream:
        first = next(csv.reader(stream), [])
    return [name.strip() for name in first]


def _parse_csv(path: Path, header: list[str]) -> tuple[pa.Table, list[tuple[int, str, int]]]:
    """Parse with every column as text; rows with the wrong field count set aside."""

    def parse(use_threads: bool) -> tuple[pa.Table, list[tuple[int | None, str, int]]]:
        unparsed: list[tuple[int | None, str, int]] = []

        def keep_aside(row: pa_csv.InvalidRow) -> str:
            unparsed.append((row.number, row.text, row.actual_columns))
            return "skip"

        arrow = pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(
                use_threads=use_threads, column_names=header, skip_rows=1, block_size=BLOCK_BYTES
            ),
            parse_options=pa_csv.ParseOptions(
                newlines_in_values=True, ignore_empty_lines=False, invalid_row_handler=keep_aside
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
        return arrow, unparsed

    arrow, unparsed = parse(use_threads=True)
    if any(number is None for number, _, _ in unparsed):
        # Only the single-threaded reader knows the line of a bad row.
        arrow, unparsed = parse(use_threads=False)
    # The single-threaded reader gives the physical line, header included.
    return arrow, [(int(number or 0), text, actual) for number, text, actual in unparsed]


def select_contract_columns(raw: RawTable) -> RawTable:
    """Missing required columns are fatal; extra ones are warned about and dropped."""
    present = [name for name in raw.frame.columns if name != LINE]
    extra = [name for name in present if name not in raw.table.column_names]
    missing = [
        column.name
        for column in raw.table.columns
        if column.required and column.name not in present
    ]
    problems: list[dict[str, object]] = [
        {
            "severity": Severity.ERROR.value,
            "file": raw.path.name,
            "column": name,
            "code": "missing_column",
        }
        for name in missing
    ]
    problems += [
        {
            "severity": Severity.WARNING.value,
            "file": raw.path.name,
            "column": name,
            "code": "extra_column",
        }
        for name in extra
    ]
    issues = pl.concat([raw.issues, issue_frame(problems)]) if problems else raw.issues
    kept = [LINE, *(name for name in raw.table.column_names if name in present)]
    fatal = bool(missing)
    if not fatal and raw.rows_read == 0:
        severity = Severity.ERROR if raw.table.required else Severity.WARNING
        issues = pl.concat(
            [
                issues,
                issue_frame(
                    [{"severity": severity.value, "file": raw.path.name, "code": "no_rows"}]
                ),
            ]
        )
        fatal = raw.table.required
    return replace(raw, frame=raw.frame.select(kept), issues=issues, fatal=fatal)
