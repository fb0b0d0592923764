"""An office's workbook as its staff keep one: Chinese headers, a title above each table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xlsxwriter

CASES = ["信访件编号", "信访人编号", "登记时间", "所属县区", "问题类别", "信访目的"]
CONTACTS = ["记录编号", "信访件编号", "信访时间", "信访形式", "登记机关", "人数"]


def case_row(i: int, **changes: Any) -> list[Any]:
    row = {"信访件编号": f"C{i}", "信访人编号": f"P{i}", "登记时间": "2025-03-04 09:30:00",
           "所属县区": "330211", "问题类别": "征地补偿", "信访目的": "申诉"} | changes  # fmt: skip
    return list(row.values())


def contact_row(i: int, **changes: Any) -> list[Any]:
    row = {"记录编号": f"K{i}", "信访件编号": f"C{i}", "信访时间": "2025/3/5 10:00:00",
           "信访形式": "来访", "登记机关": "某某县信访局", "人数": 1} | changes  # fmt: skip
    return list(row.values())


def workbook(path: Path, sheets: dict[str, tuple[list[str], list[list[Any]]]]) -> Path:
    """A workbook the way offices keep one: a merged title row above each header."""
    book = xlsxwriter.Workbook(str(path))
    for name, (header, rows) in sheets.items():
        sheet = book.add_worksheet(name)
        if len(header) > 1:
            sheet.merge_range(0, 0, 0, len(header) - 1, f"{name}台账")
        else:
            sheet.write_string(0, 0, f"{name}台账")
        sheet.write_row(1, 0, header)
        for number, row in enumerate(rows, start=2):
            sheet.write_row(number, 0, row)
    book.close()
    return path
