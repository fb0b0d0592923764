"""What stands around an office's table and holds no record: a title line above a CSV
header, a template's rows numbered and never filled, signatures and notes under the last
record. Left out and counted, never quarantined (a signature would keep a name there),
and the rows around them still named by the lines the office sees."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.contract import ContractError, Mode
from earlywarn.ingest.run import import_source
from tests.ingest.office_sheets import CASES, CONTACTS, case_row, contact_row, workbook

SHEET = "台账.xlsx, sheet 信访事项"


def _csv(path: Path, lines: list[str], encoding: str = "gbk") -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def _row(values: list[object], separator: str = ",") -> str:
    return separator.join(str(value) for value in values)


def _every_file_under(folder: Path) -> str:
    return " ".join(p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*.csv"))


def test_template_rows_and_signatures_under_a_sheet_are_left_out(tmp_path: Path) -> None:
    """A template numbered 1 to 8 with three cases filled in, then a total, a signature
    line and a note: three cases, nine rows left out, nothing quarantined."""
    header = ["序号", *CASES]
    rows = [[number, *case_row(number)] for number in (1, 2, 3)]
    rows += [[number] for number in range(4, 9)]
    rows += [["合计", "3 件"], ["填表人：王建国", None, "审核人：李明"], ["注：本表每周一报送"]]
    path = workbook(tmp_path / "台账.xlsx", {
        "信访事项": (header, rows), "信访记录": (CONTACTS, [contact_row(1)]),
    })  # fmt: skip
    quarantine = tmp_path / "quarantine"
    result = import_source(path, tmp_path / "out", Mode.LENIENT, quarantine)
    assert result.dataset.cases["case_id"].sort().to_list() == ["C1", "C2", "C3"]
    assert result.left_out == {SHEET: 5 + 3}
    assert all(s.rows_quarantined == 0 for s in result.dataset.report.tables)
    assert "王建国" not in _every_file_under(tmp_path)
    done = CliRunner().invoke(app, ["import", str(path), "--out", str(tmp_path / "cli")])
    assert done.exit_code == 0, done.output
    assert f"{SHEET}: 8 blank, title, total or signature rows left out" in done.output


def test_a_closing_word_beginning_a_record_keeps_the_record(tmp_path: Path) -> None:
    """Only a sparse line under the last record is a signature: a full last row whose
    first value begins with 审核 (a summary) is a record, checked like any other."""
    header = ["概况", *CASES]
    path = workbook(tmp_path / "台账.xlsx", {
        "信访事项": (header, [["", *case_row(1)], ["审核补偿标准时漏算面积", *case_row(2)]]),
        "信访记录": (CONTACTS, [contact_row(1), contact_row(2)]),
    })  # fmt: skip
    result = import_source(path, tmp_path / "out")
    assert result.dataset.cases["case_id"].sort().to_list() == ["C1", "C2"]
    assert result.left_out == {}


def test_a_gbk_csv_with_a_title_line_and_a_signature_reads_with_its_own_lines(
    tmp_path: Path,
) -> None:
    """A case system's GBK export: a title line, the header on line 2, records, then a
    total and a signature of another width. Read, not refused; a defect named by the
    line the office sees in its editor."""
    folder = tmp_path / "export"
    folder.mkdir()
    _csv(folder / "信访事项.csv", [
        "某某县信访事项登记表（2025年3月）", _row(CASES), _row(case_row(1)), _row(case_row(2)),
        "合计,2件", "填表人：王建国  审核人：李明",
    ])  # fmt: skip
    _csv(folder / "信访记录.csv", [
        "某某县信访记录", "", _row(CONTACTS), _row(contact_row(1)), _row(contact_row(2, 人数=0)),
    ])  # fmt: skip
    quarantine = tmp_path / "quarantine"
    result = import_source(folder, tmp_path / "out", Mode.LENIENT, quarantine)
    assert result.dataset.cases.height == 2 and result.dataset.contacts.height == 1
    assert result.left_out == {"信访事项.csv": 3, "信访记录.csv": 1}
    contacts = pl.read_csv(quarantine / "contacts.csv", infer_schema=False)
    assert contacts.select("source", "source_row").row(0) == ("信访记录.csv", "5")
    assert not (quarantine / "cases.csv").exists()
    assert "王建国" not in _every_file_under(tmp_path)
    with pytest.raises(ContractError) as refused:
        import_source(folder, tmp_path / "strict")
    assert "信访记录.csv, line 5, column 人数" in " ".join(refused.value.report.error_lines(5))


def test_a_utf16_tab_separated_file_with_a_title_line(tmp_path: Path) -> None:
    """Excel's "Unicode text": the title line holds no tab, the header does."""
    folder = tmp_path / "export"
    folder.mkdir()
    lines = ["信访事项台账", _row(CASES, "\t"), _row(case_row(1), "\t")]
    _csv(folder / "信访事项.csv", lines, "utf-16")
    _csv(folder / "信访记录.csv", [_row(CONTACTS), _row(contact_row(1))])
    result = import_source(folder, tmp_path / "out")
    assert result.dataset.cases["case_id"].to_list() == ["C1"]
    assert result.left_out == {"信访事项.csv": 1}


def test_a_broken_row_under_the_records_is_still_set_aside(tmp_path: Path) -> None:
    """A row of the wrong width is a signature only if it begins as one: a record with
    a field too many, last in the file, is quarantined with its line as before."""
    folder = tmp_path / "export"
    folder.mkdir()
    _csv(folder / "信访事项.csv", [_row(CASES), _row(case_row(1)), _row([*case_row(2), "多余"])])
    _csv(folder / "信访记录.csv", [_row(CONTACTS), _row(contact_row(1))])
    quarantine = tmp_path / "quarantine"
    result = import_source(folder, tmp_path / "out", Mode.LENIENT, quarantine)
    assert result.left_out == {}
    cases = pl.read_csv(quarantine / "cases.csv", infer_schema=False)
    assert cases["source_row"].to_list() == ["3"]
    assert "wrong number of fields" in cases["reason"][0]
