"""Where each CSV record starts: the line an office sees in its editor.

Arrow parses the file fast but numbers a row it sets aside by its record, and says
nothing of quoted line breaks; these count them, and find a quoted field that is never
closed (Arrow would read the rest of the file into it without a word).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from earlywarn.contract.report import Severity

LINE = "_line"  # position in the file: CSV line (header = 1) or Parquet row (first = 1)
_CHUNK_BYTES = 16 * 1024 * 1024
# A row must fit in one of Arrow's blocks (1 MiB by default: a long summary did not).
BLOCK_BYTES = 16 * 1024 * 1024
FIELD_LIMIT = BLOCK_BYTES  # Python's csv: the header, and the search for an unclosed quote


@dataclass
class LineBreaks:
    newlines: int
    ends_with_newline: bool
    quotes: int  # odd: a quoted field is never closed, and Arrow read the rest into it


def count_newlines(path: Path) -> LineBreaks:
    newlines = quotes = 0
    last = b""
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK_BYTES):
            newlines += chunk.count(b"\n")
            quotes += chunk.count(b'"')
            last = chunk[-1:]
    return LineBreaks(newlines, last == b"\n", quotes)


def unclosed_quote_line(path: Path) -> int | None:
    """The line of the record whose quoted field is never closed, if one is."""
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
    end = 0
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.reader(stream, strict=True)
        try:
            for _ in reader:
                end = reader.line_num
        except csv.Error:
            return end + 1
    return None


def attach_lines(
    frame: pl.DataFrame, unparsed: list[tuple[int, str, int]], *, embedded_newlines: bool
) -> tuple[pl.DataFrame, list[tuple[int, str, int]]]:
    """The file line on which each row starts (header = line 1), parsed or set aside.

    Arrow numbers a set-aside row by its record (header = 1), not by its line: records
    are counted here with the line breaks inside their quoted values."""
    records = frame.height + len(unparsed)
    aside = np.array([number - 2 for number, _, _ in unparsed], dtype=np.int64)
    breaks = np.zeros(records, dtype=np.int64)
    parsed = np.ones(records, dtype=bool)
    parsed[aside] = False
    breaks[aside] = [text.count("\n") for _, text, _ in unparsed]
    if embedded_newlines and frame.height:
        breaks[parsed] = frame.select(
            pl.sum_horizontal(pl.col(c).str.count_matches("\n").fill_null(0) for c in frame.columns)
        ).to_series().to_numpy()  # fmt: skip
    start = 2 + np.concatenate([[0], np.cumsum(1 + breaks)[:-1]]).astype(np.int64)
    lines = [
        (int(start[i]), text, actual) for i, (_, text, actual) in zip(aside, unparsed, strict=True)
    ]
    return frame.with_columns(pl.Series(LINE, start[parsed], dtype=pl.Int64)), lines


def without_empty_rows(
    frame: pl.DataFrame, file: str
) -> tuple[pl.DataFrame, list[dict[str, object]]]:
    """The rows that hold a value, and a warning naming the lines that hold none.

    A line of separators only (``,,,,``: spreadsheets save their formatted empty rows so)
    reads as a row of nulls. It holds no data, so it is not a row; it is counted in a
    warning (issue keys of ``report.ISSUE_SCHEMA``), not passed over in silence."""
    empty = pl.all_horizontal(pl.exclude(LINE).is_null())
    lines = frame.filter(empty).get_column(LINE)
    if lines.is_empty():
        return frame, []
    shown = ", ".join(str(line) for line in lines.head(10))
    more = f" and {lines.len() - 10} more" if lines.len() > 10 else ""
    warning = {
        "severity": Severity.WARNING.value,
        "file": file,
        "line": lines[0],
        "code": "empty_rows",
        "detail": f"lines {shown}{more}",
        "count": lines.len(),
    }
    return frame.filter(~empty), [warning]
