"""A simulated history written the way a petition office's case system exports it.

``xlsx-office``: one workbook, 信访台账.xlsx, with a title row merged above each
header, Chinese headers and values, the receiving office's name instead of a level,
dates typed three ways (date cells, ``2025/3/4 9:30:05``, ``2025年3月4日 09:30:05``),
the contacts split over one sheet per year, and a closing 合计 row.
``csv-gbk``: 信访事项.csv, 信访记录.csv and 办理情况.csv in GBK, with the same
headers, values and mixed dates. What ``earlywarn import`` must read, made on purpose.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl

from earlywarn.contract.names import NAMES_ZH
from earlywarn.ingest.vocabulary import HEADER_ALIASES

WORKBOOK = "信访台账.xlsx"
SHEETS = {"cases": "信访事项", "contacts": "信访记录", "actions": "办理情况"}
FORMATS = ("xlsx-office", "csv-gbk")


def _office_of(level: str, county: str, township: str | None) -> str:
    """A receiving office's name at that level, as a registration form writes it."""
    place = township or county
    return {
        "village": f"{place}第一村",
        "township": f"{place}镇人民政府",
        "county": f"{county}县信访局",
        "city": "江海市信访局",
        "province": "东海省信访局",
        "national": "国家信访局",
    }[level]


def _moment(value: dt.datetime | None, index: int, as_cells: bool) -> Any:
    """Three ways of typing a moment, in turn; all keep the seconds."""
    if value is None:
        return None
    style = index % 3
    if style == 0:
        return value if as_cells else value.strftime("%Y-%m-%d %H:%M:%S")
    if style == 1:
        return f"{value.year}/{value.month}/{value.day} {value.hour}:{value:%M:%S}"
    return f"{value.year}年{value.month}月{value.day}日 {value:%H:%M:%S}"


def office_tables(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """The contract's tables with Chinese headers and values and offices' names; moments
    stay datetimes, typed out by the writers (``_moment``)."""
    cases = tables["cases"]
    where = cases.select("case_id", "county_code", "township_code")
    shown: dict[str, pl.DataFrame] = {}
    for name, frame in tables.items():
        rows = frame.with_columns(pl.col(pl.Enum, pl.Categorical).cast(pl.String))
        if name == "contacts":
            rows = rows.join(where, on="case_id", how="left")
            offices = [
                _office_of(level, county, township)
                for level, county, township in rows.select(
                    "level", "county_code", "township_code"
                ).iter_rows()
            ]
            rows = rows.with_columns(pl.Series("level", offices)).drop(
                "county_code", "township_code"
            )
        columns: dict[str, list[Any]] = {}
        for column in frame.columns:
            header = HEADER_ALIASES[name].get(column, (column,))[0]
            values = rows.get_column(column).to_list()
            if column in NAMES_ZH and column != "level":
                names = NAMES_ZH[column]
                values = [names.get(v, v) if v is not None else None for v in values]
            columns[header] = values
        shown[name] = pl.DataFrame(columns)
    return shown


def write_office_export(tables: dict[str, pl.DataFrame], out: Path, kind: str) -> list[Path]:
    """Write the tables as an office's export of ``kind`` (one of ``FORMATS``)."""
    out.mkdir(parents=True, exist_ok=True)
    if kind == "csv-gbk":
        written = []
        for name, frame in office_tables(tables).items():
            path = out / f"{SHEETS[name]}.csv"
            typed = frame.with_columns(
                pl.Series(column, [_moment(v, i, False) for i, v in enumerate(frame[column])])
                for column, dtype in frame.schema.items()
                if dtype == pl.Datetime("us")
            )
            path.write_bytes(typed.write_csv().encode("gbk"))
            written.append(path)
        return written
    if kind == "xlsx-office":
        path = out / WORKBOOK
        _write_workbook(office_tables(tables), path)
        return [path]
    raise ValueError(f"unknown office export {kind!r}: one of {FORMATS}")


def _write_workbook(tables: dict[str, pl.DataFrame], path: Path) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    # The workbook's own creation time would make two runs of one seed differ.
    book.set_properties({"created": dt.datetime(2000, 1, 1)})
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    title = book.add_format({"bold": True, "align": "center"})
    for name, frame in tables.items():
        parts = [(SHEETS[name], frame)]
        if name == "contacts":  # one sheet per year, as offices keep them
            years = frame.get_column(frame.columns[2]).dt.year()
            parts = [
                (f"{SHEETS[name]}{year}", frame.filter(years == year))
                for year in sorted(years.unique().to_list())
            ]
        for sheet_name, part in parts:
            sheet = book.add_worksheet(sheet_name)
            sheet.merge_range(0, 0, 0, max(part.width - 1, 1), f"江海县{sheet_name}台账", title)
            sheet.write_row(1, 0, part.columns)
            row = 2
            for values in part.iter_rows():
                for column, value in enumerate(values):
                    if isinstance(value, dt.datetime):
                        typed = _moment(value, row, True)
                        if isinstance(typed, dt.datetime):
                            sheet.write_datetime(row, column, typed, when)
                        else:
                            sheet.write_string(row, column, typed)
                    elif isinstance(value, int | float):
                        sheet.write_number(row, column, value)
                    elif value is not None:
                        sheet.write_string(row, column, str(value))
                row += 1
            sheet.write_string(row + 1, 0, "合计")
            sheet.write_number(row + 1, 1, part.height)
    book.close()
