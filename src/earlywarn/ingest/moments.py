"""Timestamps as offices type them, read into the contract's ISO 8601 form.

Accepted (after NFKC, so full-width digits count): ``2025-03-04 09:30:00``,
``2025-03-04T09:30``, ``2025/3/4 9:30``, ``2025年3月4日 09:30:00``, ``2025年3月4日``,
``2025年03月04日09时30分(05秒)``, ``2025/3/4 下午4:26`` (上午/下午, AM/PM: Excel's
twelve-hour display), ``2025.3.4``, ``20250304`` and ``20250304093000`` (a case
system's compact form), Excel date cells (read as text by the workbook reader), Excel
serial numbers (``45720.395833``: days since 1899-12-30) and Unix times in seconds
(2000 to 2033) or milliseconds (``1741051800``: UTC, read in office time). A value that
is none of these, or no real moment (``2025-02-30``), reads as null; the caller reports
it with its place.
"""

from __future__ import annotations

import polars as pl

from earlywarn.contract.spec import OFFICE_TIME_ZONE

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
_COMPACT = r"^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2}))?$"
# Unix times from 2000, in seconds (10 digits, up to 2033: 2023010215 is the hour
# 2023-01-02 15:00 as a case system may write it, not a second of 2034) or
# milliseconds (13 digits, to 2099).
_EPOCH = r"^\d{10}(?:\d{3})?$"
_EPOCH_SECONDS = (946_684_800, 2_000_000_000)
_EPOCH_MILLISECONDS_TO = 4_102_444_800
_AFTERNOON = r"下午|晚上|PM|pm|p\.m\."
_MORNING = r"上午|凌晨|早上|AM|am|a\.m\."


def iso_moment(source: str | pl.Expr) -> pl.Expr:
    """The text (a column's name, or an expression) as ``YYYY-MM-DDTHH:MM:SS`` (office
    local time), or null."""
    written_text = pl.col(source) if isinstance(source, str) else source
    stripped = written_text.str.strip_chars()
    afternoon = stripped.str.contains(_AFTERNOON)
    morning = stripped.str.contains(_MORNING)
    night = stripped.str.contains("晚上")  # 晚上12:00 is midnight, where PM 12:00 is noon
    text = (
        stripped.str.replace_all(f"{_AFTERNOON}|{_MORNING}", " ")
        .str.replace(_COMPACT, "${1}-${2}-${3} ${4}:${5}:${6}")
        .str.replace(r"(\d{1,2})时(\d{1,2})分(?:(\d{1,2})秒)?", "${1}:${2}:${3}")
        .str.replace(r"(\d{1,2})时$", "${1}:00")
        .str.replace(r"[\s:]+$", "")  # what the two forms above leave empty
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
    hour = checked.dt.hour()
    # 下午4:26 is 16:26, 上午12:10 is 00:10; 下午16:26 (both said) stays as it is;
    # 晚上12:30 is half past midnight, the night after the day written.
    checked = (
        pl.when(afternoon & ~morning & (hour < 12)).then(checked + pl.duration(hours=12))
        .when(night & ~morning & (hour == 12)).then(checked + pl.duration(hours=12))
        .when(morning & ~afternoon & (hour == 12)).then(checked - pl.duration(hours=12))
        .when(afternoon & morning).then(None)
        .otherwise(checked)
    )  # fmt: skip
    days = stripped.cast(pl.Float64, strict=False)
    # Excel keeps times as fractions of a day: round to the second it stands for.
    serial = _EXCEL_EPOCH + pl.duration(seconds=(days * _SECONDS_PER_DAY).round(0).cast(pl.Int64))
    moment = (
        pl.when(stripped.str.contains(_SERIAL))
        .then(pl.when(days.is_between(*_SERIAL_DAYS, closed="left")).then(serial))
        .when(stripped.str.contains(_EPOCH))
        .then(_from_unix_time(stripped))
        .otherwise(checked)
    )
    return moment.dt.strftime("%Y-%m-%dT%H:%M:%S")


def _from_unix_time(digits: pl.Expr) -> pl.Expr:
    """Seconds (or milliseconds) since 1970 in UTC, as the office's wall clock."""
    number = digits.cast(pl.Int64, strict=False)
    milliseconds = digits.str.len_chars() == 13
    seconds = pl.when(milliseconds).then(number // 1000).otherwise(number)
    moment = pl.from_epoch(seconds, time_unit="s").dt.replace_time_zone("UTC")
    office = moment.dt.convert_time_zone(OFFICE_TIME_ZONE).dt.replace_time_zone(None)
    upper = pl.when(milliseconds).then(_EPOCH_MILLISECONDS_TO).otherwise(_EPOCH_SECONDS[1])
    return pl.when((seconds >= _EPOCH_SECONDS[0]) & (seconds < upper)).then(office)
