"""What a workbook's values do not say: which cells are formulas, which show an error,
and which stand merged over several rows.

The workbook reader (fastexcel) gives a formula's value as last saved with the file and
an error cell (``#N/A``, ``#REF!``) as empty. A workbook written by a program rather
than saved by Excel or WPS may hold formulas never calculated: no saved value at all,
or a placeholder 0 for every cell (a county code "0" is no code). A cell merged down
over several rows (a case's number over the rows of its visits, as offices lay out a
ledger) holds its value in its first row only: the reader gives the others as empty.
So the sheets' XML is read for those marks; a workbook without formulas, errors or
merges down costs one look at each sheet's bytes.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

import polars as pl

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELATIONSHIP = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_PACKAGE_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_MARKERS = re.compile(rb"<(?:\w+:)?f[\s>/]|\bt=\"e\"")
_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.DOTALL)
_REFERENCE = re.compile(rb'\br="([A-Z]+)(\d+)"')
_ERROR_TYPE = re.compile(rb'\bt="e"')
_TEXT_TYPE = re.compile(rb'\bt="str"')
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_VALUE = re.compile(rb"<(?:\w+:)?v>(.*?)</(?:\w+:)?v>", re.DOTALL)
_INLINE = re.compile(rb"<(?:\w+:)?is>")
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


@dataclass(frozen=True)
class MarkedCell:
    row: int  # as Excel shows it, from 1
    column: int  # from 0 (A)
    reference: str  # "C5"
    error: str | None = None  # "#N/A", for a cell showing an error
    saved_value: str | None = None  # a formula's value as saved (None: never calculated)

    @property
    def unusable(self) -> bool:
        """An error, or a formula no program ever calculated: the row cannot be read."""
        return self.error is not None or self.saved_value is None


@dataclass(frozen=True)
class MergedDown:
    """A merged range over more than one row: its value stands in its first row."""

    first_row: int  # as Excel shows it, from 1
    last_row: int
    column: int  # its first column, from 0 (the value's)
    reference: str  # "A5:A7"


@dataclass
class SheetMarks:
    first_column: int = 0  # the leftmost column holding a value: the reader's first column
    cells: list[MarkedCell] = field(default_factory=list)
    merged_down: list[MergedDown] = field(default_factory=list)


def workbook_marks(file: Path) -> dict[str, SheetMarks]:
    """Per sheet name, its formula and error cells; sheets with neither are left out.
    An .xls workbook (no XML inside) gives nothing."""
    try:
        book = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError):
        return {}
    with book:
        marks = {}
        for name, part in _sheet_parts(book).items():
            try:
                content = book.read(part)
            except KeyError:
                continue
            merged = _merged_down(content)
            if merged or _MARKERS.search(content):
                marks[name] = _marked(content)
                marks[name].merged_down = merged
    return marks


def _merged_down(content: bytes) -> list[MergedDown]:
    """The merged ranges that span rows (a title merged across columns does not)."""
    found = []
    for match in _MERGE.finditer(content):
        first_letters, first_row, last_letters, last_row = (g.decode() for g in match.groups())
        if int(last_row) > int(first_row):
            found.append(
                MergedDown(
                    int(first_row),
                    int(last_row),
                    _column_index(first_letters),
                    f"{first_letters}{first_row}:{last_letters}{last_row}",
                )
            )
    return found


def _sheet_parts(book: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> the part (file inside the zip) holding its cells."""
    try:
        workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
        relations = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return {}
    targets = {
        item.get("Id"): item.get("Target", "")
        for item in relations.iter(f"{_PACKAGE_RELS}Relationship")
    }
    parts = {}
    for sheet in workbook.iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(_RELATIONSHIP))
        if target:
            path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            parts[sheet.get("name", "")] = str(PurePosixPath(path))
    return parts


def _marked(content: bytes) -> SheetMarks:
    marks = SheetMarks(first_column=-1)
    for match in _CELL.finditer(content):
        attributes, inner = match.group(1), match.group(2) or b""
        reference = _REFERENCE.search(attributes)
        if reference is None:
            continue
        letters, row = reference.group(1).decode(), int(reference.group(2))
        column = _column_index(letters)
        value = _VALUE.search(inner)
        text = value.group(1).decode("utf-8", "replace") if value else None
        valued = text is not None or _INLINE.search(inner) is not None
        if valued and (marks.first_column < 0 or column < marks.first_column):
            marks.first_column = column
        where = f"{letters}{row}"
        if _ERROR_TYPE.search(attributes):
            marks.cells.append(MarkedCell(row, column, where, error=text or "#VALUE!"))
        elif _FORMULA.search(inner):
            # Excel keeps a formula's empty text as t="str" with an empty value; a formula
            # never calculated has no value, or an empty one of no type.
            saved = text if text else ("" if _TEXT_TYPE.search(attributes) else None)
            marks.cells.append(MarkedCell(row, column, where, saved_value=saved))
    marks.first_column = max(marks.first_column, 0)
    return marks


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


def filled_down(
    body: pl.DataFrame, marks: SheetMarks, first_body_row: int
) -> tuple[pl.DataFrame, list[tuple[str, MergedDown]]]:
    """The table's rows with each merged-down cell's value in every row it covers, and
    which were filled, by the header they stand under. ``body``: the sheet's columns from
    ``marks.first_column`` on, named by the header; its first row is Excel's
    ``first_body_row``. Ranges above the table (a title) are left alone."""
    by_column: dict[str, list[MergedDown]] = {}
    for merged in marks.merged_down:
        position = merged.column - marks.first_column
        if merged.first_row >= first_body_row and 0 <= position < body.width:
            by_column.setdefault(body.columns[position], []).append(merged)
    filled: list[tuple[str, MergedDown]] = []
    columns = []
    for header, ranges in by_column.items():
        values = body.get_column(header).to_list()
        for merged in ranges:
            start = merged.first_row - first_body_row
            for index in range(start + 1, min(merged.last_row - first_body_row + 1, len(values))):
                values[index] = values[index] if values[index] is not None else values[start]
            filled.append((header, merged))
        columns.append(pl.Series(header, values, dtype=body.schema[header]))
    return (body.with_columns(columns) if columns else body), filled
