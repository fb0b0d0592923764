"""Timestamps as offices write them, read as naive office local time (Asia/Shanghai).

ISO 8601 with or without seconds, fractions or an offset (converted to office time), a
space for the "T", or a bare date; Parquet datetimes and dates as they are. Anything
outside 1900 to 2099 is a typing error, not a moment."""

from __future__ import annotations

import datetime as dt

import polars as pl

from earlywarn.contract.spec import OFFICE_TIME_ZONE

TIMESTAMP = pl.Datetime("us")  # naive, office local time (Asia/Shanghai)
_CANONICAL = "%Y-%m-%dT%H:%M:%S"
_DATE = r"^\d{4}-\d{2}-\d{2}$"
# Seconds run 00 to 59: a parser would read 09:30:60 as 09:31:00.
_NAIVE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:[0-5]\d(\.\d{1,9})?)?$"
_WITH_OFFSET = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$"
_CANONICAL_SHAPE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:[0-5]\d$"
# Moments a petition office's records can hold; beyond them (year 0, 9999 moved past
# 10000 by its offset) a value is a typing error, and Python's datetime ends at 9999.
_EARLIEST, _LATEST = dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1)


def canonical_timestamp(raw: pl.Expr) -> pl.Expr:
    """The one form most exports write (``2025-03-04T09:30:00``), parsed fast; null for
    any other form (``parse_timestamp`` reads those, on the few rows that need it)."""
    value = raw.str.to_datetime(_CANONICAL, strict=False, time_unit="us")
    return pl.when(raw.str.contains(_CANONICAL_SHAPE)).then(plausible(value))


def parse_timestamp(raw: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Every accepted form of a column of ``dtype``; null where a value is none of them."""
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            return plausible(raw.cast(TIMESTAMP))
        local = raw.dt.convert_time_zone(OFFICE_TIME_ZONE).dt.replace_time_zone(None)
        return plausible(local.cast(TIMESTAMP))
    if dtype == pl.Date:
        return plausible(raw.cast(TIMESTAMP))
    if dtype != pl.String:
        return pl.lit(None, dtype=TIMESTAMP)
    # ISO 8601 as exports write it; a space for the "T" is accepted (RFC 3339 allows it).
    text = raw.str.replace(r"^(\d{4}-\d{2}-\d{2}) ", "${1}T")
    with_seconds = text.str.replace(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})($|[Z+-])", "${1}:00${2}")
    naive = (
        pl.when(text.str.contains(_DATE))
        .then(text.str.to_datetime("%Y-%m-%d", strict=False, time_unit="us"))
        .when(text.str.contains(_NAIVE))
        .then(with_seconds.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us"))
    )
    offset = with_seconds.str.replace(r"Z$", "+00:00").str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%.f%z", strict=False, time_unit="us"
    )
    local = offset.dt.convert_time_zone(OFFICE_TIME_ZONE).dt.replace_time_zone(None)
    return plausible(naive.when(text.str.contains(_WITH_OFFSET)).then(local).cast(TIMESTAMP))


def plausible(moment: pl.Expr) -> pl.Expr:
    return pl.when(moment.is_between(_EARLIEST, _LATEST, closed="left")).then(moment)
