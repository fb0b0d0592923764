"""Cases, not people, at the import: a summary is not kept, an export's columns of
personal data are said apart (never offered as columns to map)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.ingest.run import import_source
from earlywarn.ingest.suggest import suggest_mapping
from tests.ingest.office_sheets import CASES, CONTACTS, case_row, contact_row, workbook

PERSONAL = ["姓名", "身份证号", "民族", "政治面貌", "联系电话"]


def _export(tmp_path: Path) -> Path:
    headers = [*CASES, "概况", *PERSONAL]
    people = ["张卫东", "330211197008161063", "回族", "中共党员", "0571-8765 4321"]
    return workbook(tmp_path / "台账.xlsx", {
        "信访事项": (headers, [[*case_row(1), "信访人张卫东，住幸福路88号，尿毒症", *people],
                              [*case_row(2), "要求补偿", *people]]),
        "信访记录": (CONTACTS, [contact_row(1), contact_row(2, 信访件编号="C2")]),
    })  # fmt: skip


def test_a_summary_is_not_kept_and_personal_columns_are_said_apart(tmp_path: Path) -> None:
    export = _export(tmp_path)
    out = tmp_path / "dataset"
    result = import_source(export, out)
    assert result.personal_headers() == PERSONAL
    kept = pl.read_parquet(out / "cases.parquet")
    assert kept["summary"].null_count() == kept.height  # nothing reads it; names stay out
    written = b"".join(p.read_bytes() for p in out.iterdir())
    for value in ("张卫东".encode(), "幸福路".encode(), "回族".encode(), b"0571"):
        assert value not in written
    said = CliRunner().invoke(app, ["import", str(export), "--out", str(tmp_path / "again")])
    assert said.exit_code == 0, said.output
    assert "the export holds personal data, not read and not kept: 姓名, 身份证号" in said.output
    suggested = suggest_mapping(export, None)
    assert '# "姓名": personal data, never read' in suggested
    assert '"民族": ""' not in suggested
