"""What a file given as a workbook really is, when the reader cannot open it: a CSV
renamed .xlsx, a copy cut short, a workbook under a password. Said in words the
office can act on, not as the reader's zip error."""

from __future__ import annotations

import zipfile
from pathlib import Path

# What a workbook's first bytes are: a zip (.xlsx, .xlsm) or an OLE file (.xls, and an
# .xlsx that Excel saved with a password to open it).
ZIP, OLE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0"


def _start(file: Path) -> bytes:
    with file.open("rb") as handle:
        return handle.read(4)


def not_a_workbook(file: Path) -> str | None:
    """Why a file named as a workbook is none (a CSV renamed, an empty file), or None."""
    start = _start(file)
    if start.startswith((ZIP, OLE)):
        return None
    empty = " (the file is empty)" if not start else ""
    return (
        f"not an Excel workbook, whatever its name says{empty}: a CSV file renamed? name it "
        ".csv (不是 Excel 工作簿文件，如为 CSV 请改扩展名为 .csv)"
    )


def why_unreadable(file: Path) -> str:
    """What a workbook the reader refused most likely is."""
    start = _start(file)
    if start == ZIP and not zipfile.is_zipfile(file):
        return (
            "the workbook ends too soon (its end is missing): still being copied? copy it "
            "again (工作簿不完整，可能尚未复制完整，请重新复制)"
        )
    if start == OLE and file.suffix.lower() != ".xls":
        return (
            "the workbook is protected by a password: save a copy without one (工作簿设有"
            "打开密码，请另存为无密码的副本)"
        )
    return (
        "not a readable workbook, damaged? open it in Excel and save it again (无法读取该"
        "工作簿，请用 Excel 打开后重新保存)"
    )
