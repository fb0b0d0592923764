"""What stands around an office's table and holds no record.

A title above the header (a merged cell in a workbook, a line of its own in a CSV
file); blank rows; rows of a template numbered in advance (序号 1 to 200) and never
filled; and under the last record, the closing lines: totals (合计, 总计), signatures
(填表人：…, 审核人：…) and notes (注：…). Each is left out and counted, never
quarantined as a broken record: a signature line quarantined would keep a member of
staff's name in the quarantine file. Only closing lines are left out: a record whose
first value happens to begin like one (a summary "总计拖欠工资30万元") stands above
the last record, and is read and checked like any other.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence

import polars as pl

from earlywarn.ingest.csv_files import separator_of
from earlywarn.ingest.vocabulary import Vocabulary, header_key

HEADER_SEARCH_ROWS = 20  # a title (often merged across the columns) may stand above the header
_TOTALS = ("合计", "总计", "小计", "共计")
# Who filled in, checked or signed the sheet, when, and notes under it.
_SIGNATURES = (
    "填表人", "填报人", "制表人", "统计人", "经办人", "审核人", "审批人", "负责人", "联系人",
    "联系电话", "填表日期", "填报日期", "制表日期", "报送日期", "填报单位", "报送单位", "制表单位",
    "制表", "审核", "注：", "注:", "说明：", "说明:", "备注：", "备注:",
)  # fmt: skip
_CLOSING = _TOTALS + _SIGNATURES
# A template's own numbering column: a row with nothing else holds no record.
_ROW_NUMBERS = frozenset({"序号", "序", "行号", "no", "no."})


def _starting_with(words: Sequence[str]) -> str:
    return "^(?:" + "|".join(re.escape(word) for word in words) + ")"


def header_row(rows: Sequence[Sequence[object]], vocabulary: Vocabulary) -> int | None:
    """The first of the rows that names at least two columns we know."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        known = sum(1 for value in row if value and vocabulary.knows_header(str(value)))
        if known >= 2:
            return index
    return None


def csv_header_line(text: str, vocabulary: Vocabulary) -> int:
    """How many lines stand above a CSV file's header: 0, unless a title line (or a few)
    comes first and a line below names two known columns."""
    lines = text.split("\n", HEADER_SEARCH_ROWS)[:HEADER_SEARCH_ROWS]
    rows = [next(csv.reader([line], delimiter=separator_of(line)), []) for line in lines]
    return header_row(rows, vocabulary) or 0


def is_closing_text(text: str) -> bool:
    """A line under the table that begins as a total, a signature or a note does."""
    return "".join(text.split()).lstrip(",\t\"'").startswith(_CLOSING)


def kept_rows(frame: pl.DataFrame, row: str, marked_rows: list[int]) -> pl.DataFrame:
    """The rows that hold a record (or may: a row of formulas never calculated reads as
    blank, and is kept for the mapping to name), every value stripped and a blank one
    missing, whatever the source: an empty CSV field, an empty cell, or the empty string
    a database keeps in a ``NOT NULL DEFAULT ''`` column."""
    values = [c for c in frame.columns if c != row]
    if not values:
        return frame
    stripped = frame.with_columns(pl.col(values).str.strip_chars().replace("", None))
    filled = [pl.col(c).is_not_null() for c in values]
    numbering = [c for c in values if header_key(c).lower() in _ROW_NUMBERS]
    contents = [c for c in values if c not in numbering] or values
    blank = ~pl.any_horizontal(pl.col(c).is_not_null() for c in contents)
    # A total or signature is often written in the numbering column, the first.
    first = pl.coalesce(*(pl.col(c) for c in values)).str.replace_all(r"\s", "")
    sparse = pl.sum_horizontal(filled) * 2 <= max(len(values), 2)
    total = first.str.contains(_starting_with(_TOTALS))
    signature = first.str.contains(_starting_with(_SIGNATURES))
    closing_kind = (total | (signature & sparse)).fill_null(False)
    record = ~blank & ~closing_kind
    after_last = pl.int_range(pl.len()) > pl.int_range(pl.len()).filter(record).max().fill_null(-1)
    marked = pl.col(row).is_in(marked_rows)
    return stripped.filter((~blank | marked) & ~(closing_kind & after_last))
