"""A risk list as files people open: CSV (UTF-8 with BOM, for Excel) and XLSX."""

from __future__ import annotations

import io
import json
import math
import re

import polars as pl
import xlsxwriter

from earlywarn.models.reasons import describe_all, from_json
from earlywarn.models.steps import STEPS

# Column headers in Chinese first, English second.
HEADERS: dict[str, str] = {
    "rank": "排名 rank",
    "case_id": "事项编号 case",
    "county_code": "县区 county",
    "township_code": "乡镇 township",
    "category": "类别 category",
    "risk_band": "风险等级 band",
    "escalation_probability": "越级风险 escalation",
    "collective_probability": "集体访风险 collective",
    "escalation_flag": "越级预警 escalation flag",
    "collective_flag": "集体访预警 collective flag",
    "reasons": "主要原因 reasons",
    "steps": "建议措施 recommended steps",
    "days_since_last_contact": "距上次来访天数 days since last contact",
    "review": "核查 review",
}


def _steps_text(text: str | None) -> str:
    keys: list[str] = json.loads(text) if text else []
    return "; ".join(" / ".join(STEPS[k]) if k in STEPS else k for k in keys)


def in_words(frame: pl.DataFrame) -> pl.DataFrame:
    """Stored reasons and steps (JSON) as the words people read, in both languages."""
    words = []
    if "reasons" in frame.columns:
        words.append(
            pl.col("reasons").map_elements(
                lambda text: describe_all(from_json(text)), return_dtype=pl.String
            )
        )
    if "steps" in frame.columns:
        words.append(pl.col("steps").map_elements(_steps_text, return_dtype=pl.String))
    return frame.with_columns(words) if words else frame


def _labelled(frame: pl.DataFrame) -> pl.DataFrame:
    chosen = [c for c in HEADERS if c in frame.columns]
    return in_words(frame).select(chosen).rename({c: HEADERS[c] for c in chosen})


# A spreadsheet reads a cell that starts with one of these as a formula (OWASP's
# CSV-injection rule); a case system's export may carry any text in a code column.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells that a spreadsheet would run as a formula, prefixed with ``'``."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    starts = "^[" + "".join(re.escape(c) for c in FORMULA_STARTS) + "]"
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(starts))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in text
    )


def csv_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    neutralised(_labelled(frame)).write_csv(buffer)
    return "\ufeff".encode() + buffer.getvalue()


def xlsx_bytes(frame: pl.DataFrame, title: str = "每日风险清单") -> bytes:
    """The rows as a workbook. Text is written as text (``write_string``): a value that
    looks like a formula stays a string. XlsxWriter streams rows (constant memory),
    several times faster than openpyxl on a long list."""
    labelled = _labelled(frame)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"constant_memory": True, "in_memory": True})
    sheet = book.add_worksheet(title[:31])
    sheet.write_row(0, 0, labelled.columns)
    for number, row in enumerate(labelled.iter_rows(), start=1):
        for column, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                sheet.write_string(number, column, value)
            elif isinstance(value, bool):
                sheet.write_boolean(number, column, value)
            elif isinstance(value, int | float):
                if math.isfinite(value):
                    sheet.write_number(number, column, value)
            else:
                sheet.write_string(number, column, str(value))
    book.close()
    return buffer.getvalue()
