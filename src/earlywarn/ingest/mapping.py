"""From an office's tables to the contract's: which table each one is, which header is which
column, which value is which code.

What cannot be mapped is left as written, so that the contract's own checks reject it
with its place (a date that is no date, an office whose level is unknown); unmapped
headers and values are also listed once each, with their counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from earlywarn.contract.spec import TABLES, Kind, Table
from earlywarn.ingest.moments import iso_moment
from earlywarn.ingest.sources import ROW, SourceTable
from earlywarn.ingest.vocabulary import (
    header_aliases,
    normalise,
    normalised,
    office_level,
    value_aliases,
)

# Which columns make a table recognisable, beyond its key.
_SIGNATURE: dict[str, tuple[str, ...]] = {
    "cases": ("case_id", "registered_at"),
    "contacts": ("case_id", "occurred_at", "group_size"),
    "actions": ("case_id", "occurred_at", "action_type"),
}
_ENUMS = ("category", "nature", "channel", "level", "action_type", "outcome")


class MappingError(ValueError):
    """A source table that cannot be mapped; the message names it and says why."""


@dataclass
class MappedTable:
    table: Table
    origin: str
    frame: pl.DataFrame  # the contract's columns as text, and ROW
    headers: dict[str, str]  # contract column -> the source header it came from
    unmapped_headers: list[str] = field(default_factory=list)
    unmapped_values: dict[tuple[str, str], int] = field(default_factory=dict)  # (column, value)


def classify(source: SourceTable) -> Table:
    """The contract table whose columns this source's headers name; one, or an error."""
    names = [normalise(c) for c in source.frame.columns if c != ROW]
    fits = []
    for table in TABLES:
        aliases = header_aliases(table.name)
        columns = {aliases[n] for n in names if n in aliases}
        if set(_SIGNATURE[table.name]) <= columns:
            fits.append((len(columns), table))
    if not fits:
        raise MappingError(
            f"{source.origin}: its headers name no table of the contract "
            f"(a case table needs 信访件编号 and 登记时间, a contact table 信访时间 and 人数, "
            f"a handling table 办理环节): {', '.join(names[:12])}"
        )
    fits.sort(key=lambda fit: -fit[0])
    if len(fits) > 1 and fits[0][0] == fits[1][0]:
        both = " and ".join(t.name for _, t in fits[:2])
        raise MappingError(f"{source.origin}: its headers fit both {both}; map it explicitly")
    return fits[0][1]


def map_table(source: SourceTable, table: Table) -> MappedTable:
    """The source's rows in the contract's columns and codes (text, for the contract's
    checks), keeping each row's source row number."""
    aliases = header_aliases(table.name)
    headers: dict[str, str] = {}
    unmapped = []
    for header in source.frame.columns:
        if header == ROW:
            continue
        column = aliases.get(normalise(header))
        if column is None:
            unmapped.append(header)
            continue
        if column in headers:
            raise MappingError(
                f"{source.origin}: headers {headers[column]!r} and {header!r} both map to "
                f"column {column}; keep one, or map the other elsewhere"
            )
        headers[column] = header
    frame = source.frame.select(
        ROW, *(pl.col(header).alias(column) for column, header in headers.items())
    )
    mapped = MappedTable(table, source.origin, frame, headers, unmapped)
    mapped.frame = frame.with_columns(
        _mapped(table, column, mapped) for column in headers if column in frame.columns
    )
    return mapped


def _mapped(table: Table, column: str, mapped: MappedTable) -> pl.Expr:
    kind = table.column(column).kind
    text = normalised(column)
    if kind is Kind.TIMESTAMP:
        return pl.coalesce(iso_moment(text), pl.col(column)).alias(column)
    if kind is Kind.POSITIVE_INT:
        return text.str.replace(r"人$", "").str.replace(r"\.0+$", "").alias(column)
    if kind is Kind.FREE_TEXT:
        return pl.col(column)
    if column in _ENUMS:
        known = value_aliases(column)
        values = mapped.frame.get_column(column).drop_nulls().unique().to_list()
        lookup: dict[str, str] = {}
        for value in values:
            code = known.get(normalise(value))
            if code is None and column == "level":
                code = office_level(value)
            if code is None:
                mapped.unmapped_values[(column, value)] = int(
                    (mapped.frame.get_column(column) == value).sum()
                )
            else:
                lookup[value] = code
        return pl.col(column).replace(lookup).alias(column)
    return text.alias(column)
