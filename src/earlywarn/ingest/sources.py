"""Reading an office's files as they are: CSV in any Chinese encoding, Excel workbooks.

Every cell is read as text, with the row number the office would see (the line of
a CSV file, the row of a sheet as Excel shows it), so that a problem found later
can be named where it was written.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import polars as pl

from earlywarn.ingest.csv_files import CsvError, cut_short, decode, records
from earlywarn.ingest.table_edges import (
    HEADER_SEARCH_ROWS,
    csv_header_line,
    header_row,
    is_closing_text,
    kept_rows,
)
from earlywarn.ingest.vocabulary import Vocabulary, normalise
from earlywarn.ingest.workbook_cells import MarkedCell, MergedDown, filled_down, workbook_marks
from earlywarn.ingest.workbook_files import not_a_workbook, why_unreadable

ROW = "_source_row"
_WORKBOOKS = (".xlsx", ".xlsm", ".xls")


class SetAside(NamedTuple):
    """A source row that cannot be read as a record, quarantined (lenient) or refused."""

    line: int  # the row as the office sees it
    text: str  # its values, as written
    code: str  # the code: report.SET_ASIDE_CODES
    detail: str
    # Its case_id when that cell could be read (an error elsewhere in the row): the
    # case's contacts and actions are then said to belong to a case set aside.
    case_id: str | None = None


class SourceError(ValueError):
    """A file that cannot be read at all; the message names it and says why."""


@dataclass
class SourceTable:
    origin: str  # "信访台账.xlsx, sheet 信访记录" or "cases.csv"
    frame: pl.DataFrame  # one text column per source header (as written), and ROW
    encoding: str | None = None  # for CSV: the encoding found, named in the report
    skipped_rows: int = 0  # blank and total rows left out
    name: str = ""  # the sheet's name, or the file's: how a mapping file names it
    table: str | None = None  # the contract table, when the source says so (a database)
    set_aside: list[SetAside] = field(default_factory=list)
    # A workbook's formula and error cells under the header, by the header they stand
    # under: the mapping decides what they mean for the columns it uses.
    marks: list[tuple[str, MarkedCell]] = field(default_factory=list)
    # Cells merged over several rows, filled down, by the header they stand under.
    filled: list[tuple[str, MergedDown]] = field(default_factory=list)


def read_source(
    path: Path, vocabulary: Vocabulary | None = None, skipped: list[str] | None = None
) -> list[SourceTable]:
    """Every table in a workbook, a CSV file, or a directory of them; whatever is not
    read (a file of another kind, a folder, a sheet without a table) is named in
    ``skipped`` with the reason."""
    vocabulary = vocabulary or Vocabulary()
    skipped = skipped if skipped is not None else []
    if not path.exists():
        raise SourceError(f"{path}: not found")
    files = sorted(path.iterdir()) if path.is_dir() else [path]
    tables: list[SourceTable] = []
    for file in files:
        why_not = _not_read(file) if path.is_dir() else None
        if why_not:
            skipped.append(f"{file.name}: {why_not}")
        elif file.suffix.lower() == ".csv":
            tables.append(read_csv(file, vocabulary))
        elif file.suffix.lower() in _WORKBOOKS:
            tables.extend(read_workbook(file, vocabulary, skipped))
    return tables


def _not_read(file: Path) -> str | None:
    """Why a directory's entry is passed over, or None when it is read."""
    if file.is_symlink():
        return "a link, not read (链接文件未读取)"
    if file.is_dir():
        return "a folder: folders inside are not read (子文件夹未读取)"
    if file.name.startswith("~$"):
        return "Excel's or WPS's lock file of an open workbook, not read (打开工作簿时的临时文件)"
    if file.name.startswith("."):
        return "a hidden file (a copy's leftovers, e.g. macOS '._'), not read (隐藏文件未读取)"
    if file.name == "calendar.yaml":
        return None  # the office's calendar: read by the import beside the tables
    if file.suffix.lower() not in (".csv", *_WORKBOOKS):
        return "neither CSV nor Excel, not read: save it as .csv or .xlsx (非 CSV 或 Excel 文件)"
    return None


def is_database(source: str) -> bool:
    return "://" in source


def shown_source(source: Path | str) -> str:
    """A source as a message may show it: a database URL without its password."""
    if isinstance(source, Path) or not is_database(source):
        return str(source)
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(source)
    except ArgumentError:
        return "a database URL that cannot be read"
    # A password given as a parameter (?password=...) is a password too.
    secret = {k: "***" for k in parsed.query if k.lower() in ("password", "passwd", "pwd")}
    return parsed.update_query_dict(secret).render_as_string(hide_password=True)


def read_csv(file: Path, vocabulary: Vocabulary | None = None) -> SourceTable:
    """A CSV file's rows, numbered by their lines; title lines above the header and
    closing lines under the last record (totals, signatures) left out and counted."""
    try:
        content, encoding = decode(file.read_bytes(), file.name)
        above = csv_header_line(content, vocabulary or Vocabulary())
        *title, content = content.split("\n", above) if above else [content]
        found = records(content, file.name, above)
        cut_short(content, len(found.header), file.name)
    except CsvError as error:
        raise SourceError(str(error)) from error
    frame = found.frame
    frame.columns = _unique([name.strip() for name in found.header])
    frame = frame.with_columns(pl.Series(ROW, found.lines, dtype=pl.Int64))
    last_record = max(found.lines, default=0)
    closing = [r for r in found.set_aside if r[0] > last_record and is_closing_text(r[1])]
    aside = [SetAside(*row) for row in found.set_aside if row not in closing]
    left_out = len(closing) + sum(1 for line in title if line.strip())
    return cleaned(SourceTable(file.name, frame, encoding, left_out, file.name, set_aside=aside))


def read_workbook(
    file: Path, vocabulary: Vocabulary, skipped: list[str] | None = None
) -> list[SourceTable]:
    """The tables of a workbook, found by their headers, whatever the sheets are called."""
    import fastexcel

    refused = not_a_workbook(file)
    if refused:
        raise SourceError(f"{file.name}: {refused}")
    try:
        book = fastexcel.read_excel(str(file))
    except Exception as error:  # fastexcel's errors name no file
        said = str(error).strip().splitlines()[0]  # the rest is the reader's call stack
        raise SourceError(f"{file.name}: {why_unreadable(file)} ({said})") from error
    marks = workbook_marks(file)
    skipped = skipped if skipped is not None else []
    tables = []
    for sheet in book.sheet_names:
        # skip_rows=0 keeps empty rows above the table, so that row numbers are Excel's.
        loaded = book.load_sheet(sheet, header_row=None, dtypes="string", skip_rows=0)
        if loaded.visible != "visible":  # often a stale copy or a lookup list
            skipped.append(
                f"{file.name}, sheet {sheet}: a hidden sheet, not read; unhide it to import "
                "it (隐藏的工作表未读取，如需导入请取消隐藏)"
            )
            continue
        cells = loaded.to_polars()
        header_at = (
            None
            if cells.is_empty()
            else header_row(cells.head(HEADER_SEARCH_ROWS).rows(), vocabulary)
        )
        if header_at is None:
            why = (
                "empty" if cells.is_empty()
                else f"no row among its first {HEADER_SEARCH_ROWS} names two known columns "
                "(a header lower down, or headers of another name: a mapping file names them)"
            )  # fmt: skip
            skipped.append(f"{file.name}, sheet {sheet}: {why}")
            continue
        names = [
            normalise(str(value)) if value is not None else f"列{i + 1}"
            for i, value in enumerate(cells.row(header_at))
        ]
        body = cells.slice(header_at + 1)
        names = _unique(names)
        body.columns = names
        filled: list[tuple[str, MergedDown]] = []
        if sheet in marks:  # a case's number merged over the rows of its visits
            body, filled = filled_down(body, marks[sheet], header_at + 2)
        body = body.with_row_index(ROW, offset=header_at + 2).with_columns(
            pl.col(ROW).cast(pl.Int64)
        )
        table = SourceTable(f"{file.name}, sheet {sheet}", body, name=sheet, filled=filled)
        if sheet in marks:
            first = marks[sheet].first_column
            table.marks = [
                (names[cell.column - first], cell)
                for cell in marks[sheet].cells
                if cell.row > header_at + 1 and 0 <= cell.column - first < len(names)
            ]
        tables.append(cleaned(table))
    return tables


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return unique


def cleaned(table: SourceTable) -> SourceTable:
    """The table without what stands around it and holds no record; those rows counted."""
    unusable = [cell.row for _, cell in table.marks if cell.unusable]
    kept = kept_rows(table.frame, ROW, unusable)
    skipped = table.skipped_rows + table.frame.height - kept.height
    return replace(table, frame=kept, skipped_rows=skipped)
