"""From an office's tables to the contract's: which table each one is, which header is which
column, which value is which code.

What cannot be mapped is left as written, so that the contract's own checks reject it
with its place (a date that is no date, an office whose level is unknown); unmapped
headers and values are also listed once each, with their counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from earlywarn.contract.personal import echoed_expr
from earlywarn.contract.spec import TABLES, Kind, Table
from earlywarn.ingest.moments import iso_moment
from earlywarn.ingest.sources import ROW, SetAside, SourceTable
from earlywarn.ingest.vocabulary import Vocabulary, header_key, normalise, normalised
from earlywarn.ingest.workbook_cells import MarkedCell, MergedDown

# What makes a table recognisable: all of the first columns, and one of the second.
_SIGNATURE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "cases": (("case_id",), ("registered_at", "category", "petitioner_id")),
    "contacts": (("case_id",), ("group_size", "channel", "level")),
    "actions": (("case_id",), ("action_type", "outcome")),
}
_ENUMS = ("category", "nature", "channel", "level", "action_type", "outcome")


class MappingError(ValueError):
    """A source table that cannot be mapped; the message names it and says why."""


class NoTableError(MappingError):
    """A source whose headers name no table of the contract (a statistics sheet, a list
    of dropdown values): passed over and said, as a notes sheet is."""


@dataclass
class MappedTable:
    table: Table
    origin: str
    frame: pl.DataFrame  # the contract's columns as text, and ROW
    headers: dict[str, str]  # contract column -> the source header it came from
    unmapped_headers: list[str] = field(default_factory=list)
    unmapped_values: dict[tuple[str, str], int] = field(default_factory=dict)  # (column, value)
    set_aside: list[SetAside] = field(default_factory=list)  # rows the source could not read
    notes: list[dict[str, object]] = field(default_factory=list)  # warnings, as issue rows


def classify(source: SourceTable, vocabulary: Vocabulary) -> Table:
    """The contract table whose columns this source's headers name; one, or an error.
    A mapping file may name it (``tables``)."""
    named = source.table or vocabulary.tables.get(normalise(source.name))
    if named is not None:
        return next(t for t in TABLES if t.name == named)
    names = [header_key(c) for c in source.frame.columns if c != ROW]
    fits = []
    for table in TABLES:
        aliases = vocabulary.headers(table.name)
        columns = {aliases[n] for n in names if n in aliases}
        every, some = _SIGNATURE[table.name]
        if set(every) <= columns and columns & set(some):
            fits.append((len(columns), table))
    if not fits:
        raise NoTableError(
            f"{source.origin}: its headers name no table of the contract "
            f"(each needs 信访件编号; a case table also 登记时间 or 问题类别, a contact table "
            f"人数, 信访形式 or 登记机关, a handling table 办理环节): {', '.join(names[:12])}"
        )
    fits.sort(key=lambda fit: -fit[0])
    if len(fits) > 1 and fits[0][0] == fits[1][0]:
        both = " and ".join(t.name for _, t in fits[:2])
        raise MappingError(
            f"{source.origin}: its headers fit both {both}; name it in the mapping file "
            f"(tables: {{{source.name}: ...}})"
        )
    return fits[0][1]


def map_table(source: SourceTable, table: Table, vocabulary: Vocabulary) -> MappedTable:
    """The source's rows in the contract's columns and codes (text, for the contract's
    checks), keeping each row's source row number."""
    aliases = vocabulary.headers(table.name)
    headers: dict[str, str] = {}
    unmapped = []
    for header in source.frame.columns:
        if header == ROW:
            continue
        column = aliases.get(header_key(header))
        if column is None:
            unmapped.append(header)
            continue
        if column in headers:
            raise MappingError(
                f"{source.origin}: headers {headers[column]!r} and {header!r} both map to "
                f"column {column}; keep one, or map the other elsewhere: in a mapping file, "
                f"headers: {{{table.name}: {{{header}: null}}}} leaves {header!r} unread "
                f"(两列表头对应同一字段，请在映射文件中将其中一列设为 null)"
            )
        headers[column] = header
    frame = source.frame.select(
        ROW, *(pl.col(header).alias(column) for column, header in headers.items())
    )
    used = [(header, cell) for header, cell in source.marks if header in headers.values()]
    aside = _unreadable_rows(source, used)
    if aside and "case_id" in headers:
        lines = [row.line for row in aside]
        keys = dict(
            frame.filter(pl.col(ROW).is_in(lines)).select(ROW, normalised("case_id")).rows()
        )
        aside = [row._replace(case_id=keys.get(row.line)) for row in aside]
    frame = frame.filter(~pl.col(ROW).is_in([row.line for row in aside]))
    set_aside = [*source.set_aside, *aside]
    mapped = MappedTable(table, source.origin, frame, headers, unmapped, set_aside=set_aside)
    mapped.notes = _formula_notes(source.origin, used) + _merge_notes(source, headers)
    mapped.frame = frame.with_columns(
        _mapped(table, column, mapped, vocabulary) for column in headers if column in frame.columns
    )
    return mapped


def _mapped(table: Table, column: str, mapped: MappedTable, vocabulary: Vocabulary) -> pl.Expr:
    kind = table.column(column).kind
    text = normalised(column)
    if kind is Kind.TIMESTAMP:
        return pl.coalesce(iso_moment(text), pl.col(column)).alias(column)
    if kind is Kind.POSITIVE_INT:
        return text.str.replace(r"人$", "").str.replace(r"\.0+$", "").alias(column)
    if kind is Kind.FREE_TEXT:
        return pl.col(column)
    if column in _ENUMS:
        known = vocabulary.values(column)
        values = mapped.frame.get_column(column).drop_nulls().unique().to_list()
        lookup: dict[str, str] = {}
        for value in values:
            code = vocabulary.level(value) if column == "level" else known.get(normalise(value))
            if code is None:
                mapped.unmapped_values[(column, value)] = int(
                    (mapped.frame.get_column(column) == value).sum()
                )
            else:
                lookup[value] = code
        return pl.col(column).replace(lookup).alias(column)
    return text.alias(column)


def _unreadable_rows(source: SourceTable, marks: list[tuple[str, MarkedCell]]) -> list[SetAside]:
    """Rows with an error cell or a formula never calculated in a column the import uses:
    set aside whole, each with its cells named (their values were read as empty)."""
    found: dict[int, list[tuple[str, MarkedCell]]] = {}
    for header, cell in marks:
        if cell.unusable:
            found.setdefault(cell.row, []).append((header, cell))
    if not found:
        return []
    values = [c for c in source.frame.columns if c != ROW]
    texts = dict(
        source.frame.filter(pl.col(ROW).is_in(list(found)))
        .select(ROW, pl.concat_str(echoed_expr(pl.col(values)).fill_null(""), separator=","))
        .iter_rows()
    )
    aside = []
    for row, cells in sorted(found.items()):
        error = any(cell.error for _, cell in cells)
        said = "; ".join(
            f"cell {cell.reference} ({header})" + (f": {cell.error}" if cell.error else "")
            for header, cell in cells
        )
        code = "excel_error" if error else "formula_not_calculated"
        aside.append(SetAside(row, str(texts.get(row, "")), code, said))
    return aside


def _formula_notes(origin: str, marks: list[tuple[str, MarkedCell]]) -> list[dict[str, object]]:
    """One warning per column of formulas read by their saved values: a program that
    wrote the workbook may have saved a placeholder (0) for every one."""
    by_header: dict[str, list[MarkedCell]] = {}
    for header, cell in marks:
        if not cell.unusable:
            by_header.setdefault(header, []).append(cell)
    notes: list[dict[str, object]] = []
    for header, cells in by_header.items():
        values = {cell.saved_value for cell in cells}
        same = f", every one {next(iter(values))!r}" if len(cells) > 1 and len(values) == 1 else ""
        notes.append({
            "severity": "warning", "file": origin, "line": cells[0].row, "column": header,
            "code": "formula_values", "count": len(cells),
            "detail": f"{len(cells):,} formula cells from {cells[0].reference}{same}: if a "
            "program wrote the workbook, open it in Excel or WPS and save it before importing",
        })  # fmt: skip
    return notes


def _merge_notes(source: SourceTable, headers: dict[str, str]) -> list[dict[str, object]]:
    """One warning per column read, of cells merged over rows and filled down: a merge an
    office meant for one record over several rows reads right; one laid over different
    records (a category merged for looks) gives each the first row's value."""
    by_header: dict[str, list[MergedDown]] = {}
    for header, merged in source.filled:
        if header in headers.values():
            by_header.setdefault(header, []).append(merged)
    return [
        {"severity": "warning", "file": source.origin, "line": ranges[0].first_row,
         "column": header, "code": "merged_cells_filled",
         "count": sum(r.last_row - r.first_row for r in ranges),
         "detail": f"{len(ranges):,} merged range(s) from {ranges[0].reference}: every row a "
         "range covers is read with its first row's value; if a range spans rows of "
         "different records, unmerge it in Excel or WPS and fill each row"}
        for header, ranges in by_header.items()
    ]  # fmt: skip


# Two sources of one table sharing this many of their keys are two copies of an export.
_SHARED_FEW = 10
_SHARED_SHARE = 0.10


def copies_of_one_table(mapped: list[MappedTable]) -> list[str]:
    """Pairs of sources of one table that share many keys, said in words: two exports in
    one folder (last week's workbook beside tonight's CSV files). Read together, one
    copy's rows were quarantined as repeated keys and which survived depended on the
    file order, table by table. A table kept over several sheets (one per year) shares
    none, or a few rows, which stay quarantined as repeats."""
    said = []
    for index, first in enumerate(mapped):
        key = first.table.key
        for second in mapped[index + 1 :]:
            if second.table.name != first.table.name or key not in first.frame.columns:
                continue
            if key not in second.frame.columns:
                continue
            mine = first.frame.get_column(key).drop_nulls().unique()
            theirs = second.frame.get_column(key).drop_nulls().unique()
            shared = int(mine.is_in(theirs.implode()).sum())
            fewer = min(mine.len(), theirs.len())
            if shared > _SHARED_FEW and shared > _SHARED_SHARE * fewer:
                said.append(
                    f"{first.table.name}: {first.origin} and {second.origin} share {shared:,} "
                    f"of their {key}s"
                )
    return said
