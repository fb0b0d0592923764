"""Timestamps as offices type them, read into the contract's ISO 8601 form.

Accepted (after NFKC, so full-width digits count): ``2025-03-04 09:30:00``,
``2025-03-04T09:30``, ``2025/3/4 9:30``, ``2025年3月4日 09:30:00``, ``2025年3月4日``,
``2025.3.4``, Excel date cells (read as text by the workbook reader) and Excel serial
numbers (``45720.395833``: days since 1899-12-30). A value that is none of these, or
no real moment (``2025-02-30``), reads as null; the caller reports it with its place.
"""

from __future__ import annotations

import polars as pl

_SHAPE = (
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:\s+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?)?$"
)
# Excel serial days of 1970 to 2099 (25569 to 73050): a bare year (2024) or a small
# number is no date an office typed, though Excel would read it as one in 1905.
_SERIAL = r"^\d{5}(?:\.\d+)?$"
_SERIAL_DAYS = (25_569, 73_051)
_EXCEL_EPOCH = pl.datetime(1899, 12, 30)
_SECONDS_PER_DAY = 86_400


def iso_moment(source: str | pl.Expr) -> pl.Expr:
    """The text (a column's name, or an expression) as ``YYYY-MM-DDTHH:MM:SS`` (office
    local time), or null."""
    written_text = pl.col(source) if isinstance(source, str) else source
    text = (
        written_text.str.strip_chars()
        .str.replace(r"(\d:\d{2}:\d{2})\.\d+$", "${1}")  # fractions of a second go
        .str.replace_all(r"[年/.]", "-")
        .str.replace_all("月", "-")
        .str.replace_all("日", " ")
        .str.replace_all("T", " ")
        .str.strip_chars()
    )
    parts = text.str.extract_groups(_SHAPE)
    # Seconds run 00 to 59: the parser below would read 09:30:60 as 09:31:00.
    seconds = parts.struct.field("6").cast(pl.Int32, strict=False).fill_null(0)
    parts = pl.when(seconds < 60).then(parts)

    def padded(index: int, default: str = "00") -> pl.Expr:
        return parts.struct.field(str(index)).fill_null(default).str.zfill(2)

    written = pl.concat_str(
        parts.struct.field("1"), pl.lit("-"), padded(2), pl.lit("-"), padded(3), pl.lit("T"),
        padded(4), pl.lit(":"), padded(5), pl.lit(":"), padded(6),
    )  # fmt: skip
    checked = written.str.strptime(pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S", strict=False)
    days = written_text.str.strip_chars().cast(pl.Float64, strict=False)
    # Excel keeps times as fractions of a day: round to the second it stands for.
    serial = _EXCEL_EPOCH + pl.duration(seconds=(days * _SECONDS_PER_DAY).round(0).cast(pl.Int64))
    moment = (
        pl.when(written_text.str.strip_chars().str.contains(_SERIAL))
        .then(pl.when(days.is_between(*_SERIAL_DAYS, closed="left")).then(serial))
        .otherwise(checked)
    )
    return moment.dt.strftime("%Y-%m-%dT%H:%M:%S")
