"""A risk list as files people open: CSV (UTF-8 with BOM, for Excel) and XLSX."""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

import polars as pl
from openpyxl import Workbook

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


def csv_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    _labelled(frame).write_csv(buffer)
    return "\ufeff".encode() + buffer.getvalue()


def xlsx_bytes(frame: pl.DataFrame, title: str = "每日风险清单") -> bytes:
    labelled = _labelled(frame)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(labelled.columns)
    for row in labelled.iter_rows():
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_atomically(path: Path, content: bytes) -> None:
    """Write beside the target, then rename: a crash never leaves half a file in its place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(handle)
    try:
        Path(temporary).write_bytes(content)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
