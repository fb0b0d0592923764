"""Workbooks as offices really send them: formulas, error cells, hidden sheets, wrapped
headers, lock files beside them. Nothing read wrong without a word, nothing lost."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import polars as pl
import pytest
import xlsxwriter
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.contract import ContractError, Mode
from earlywarn.ingest.run import SourceError, import_source
from tests.ingest.office_sheets import CASES, CONTACTS, case_row, contact_row, workbook


def _quarantined(tmp_path: Path, table: str) -> pl.DataFrame:
    return pl.read_csv(tmp_path / "quarantine" / f"{table}.csv", infer_schema=False)


def test_formulas_are_read_by_their_saved_values_and_said(tmp_path: Path) -> None:
    """A program's formulas (xlsxwriter saves 0 for each) are read, with a warning per
    column naming how many and that every one is the same value."""
    path = tmp_path / "台账.xlsx"
    book = xlsxwriter.Workbook(str(path))
    cases = book.add_worksheet("信访事项")
    cases.write_row(0, 0, CASES)
    for number in (1, 2, 3):
        row = case_row(number)
        cases.write_row(number, 0, row)
        cases.write_formula(number, CASES.index("所属县区"), '="330211"')  # saved as 0
    contacts = book.add_worksheet("信访记录")
    contacts.write_row(0, 0, CONTACTS)
    for number in (1, 2, 3):
        contacts.write_row(number, 0, contact_row(number))
    book.close()
    result = import_source(path, tmp_path / "out", Mode.LENIENT, tmp_path / "quarantine")
    assert result.dataset.cases.height == 3
    warnings = result.dataset.report.warning_lines()
    said = [line for line in warnings if "formula" in line]
    assert len(said) == 1, warnings
    assert "信访事项" in said[0] and "所属县区" in said[0] and "3 formula cells from D2" in said[0]
    assert "every one '0'" in said[0]


def test_error_cells_and_formulas_never_calculated_are_quarantined_with_their_cells(
    tmp_path: Path,
) -> None:
    """#N/A read as empty would make a row of a missing value (or, in an optional column,
    a silent gap); a formula openpyxl wrote has no value at all. Both rows are set aside
    with the cell named; rows read = kept + quarantined; strict mode refuses."""
    book = openpyxl.Workbook()
    cases = book.active
    assert cases is not None
    cases.title = "信访事项"
    cases.append(CASES)
    for number in (1, 2, 3, 4):
        cases.append(case_row(number))
    cases["F3"] = "=VLOOKUP(A3,目的!A:B,2,FALSE)"  # 信访目的 of C2: never calculated
    contacts = book.create_sheet("信访记录")
    contacts.append(CONTACTS)
    for number in (1, 2, 3, 4):
        contacts.append(contact_row(number))
    path = tmp_path / "台账.xlsx"
    book.save(path)
    _with_error_cell(path, sheet=1, cell="C4", error="#N/A")  # 登记时间 of C3
    result = import_source(path, tmp_path / "out", Mode.LENIENT, tmp_path / "quarantine")
    assert sorted(result.dataset.cases["case_id"].to_list()) == ["C1", "C4"]
    summary = next(t for t in result.dataset.report.tables if t.table == "cases")
    assert (summary.rows_read, summary.rows_quarantined) == (4, 2)
    rows = _quarantined(tmp_path, "cases")
    assert rows["source_row"].to_list() == ["3", "4"]
    reasons = " ".join(rows["reason"].to_list())
    assert "formula never calculated" in reasons and "spreadsheet error" in reasons
    errors = result.dataset.report.error_lines(10)
    assert "row 3: a formula never calculated" in errors[0] and "cell F3 (信访目的)" in errors[0]
    assert "row 4: a cell shows a spreadsheet error" in errors[1]
    assert "cell C4 (登记时间): #N/A" in errors[1]
    # Their contacts belong to cases set aside (they said "case_id not found in cases").
    contacts = _quarantined(tmp_path, "contacts")
    assert contacts["source_row"].to_list() == ["3", "4"]
    assert set(contacts["reason"].to_list()) == {"case_id: its case was quarantined"}
    with pytest.raises(ContractError, match="F3"):
        import_source(path, tmp_path / "strict")


def _with_error_cell(path: Path, sheet: int, cell: str, error: str) -> None:
    """Rewrite one cell as Excel stores an error (openpyxl cannot write one)."""
    import zipfile

    part = f"xl/worksheets/sheet{sheet}.xml"
    with zipfile.ZipFile(path) as book:
        contents = {name: book.read(name) for name in book.namelist()}
    xml = contents[part].decode()
    start = xml.index(f'<c r="{cell}"')
    end = xml.index("</c>", start) + len("</c>")
    contents[part] = (
        xml[:start] + f'<c r="{cell}" t="e"><f>1/0</f><v>{error}</v></c>' + xml[end:]
    ).encode()
    with zipfile.ZipFile(path, "w") as book:
        for name, content in contents.items():
            book.writestr(name, content)


def test_a_hidden_stale_copy_is_not_read_and_is_said(tmp_path: Path) -> None:
    path = workbook(tmp_path / "台账.xlsx", {
        "旧信访事项": (CASES, [case_row(1, 问题类别="其他")]),
        "信访事项": (CASES, [case_row(1)]),
        "信访记录": (CONTACTS, [contact_row(1)]),
    })  # fmt: skip
    book = openpyxl.load_workbook(path)
    book["旧信访事项"].sheet_state = "hidden"
    book.save(path)
    result = import_source(path, tmp_path / "out")
    assert result.dataset.cases["category"].cast(pl.String).to_list() == ["land_requisition"]
    assert any("sheet 旧信访事项: a hidden sheet, not read" in line for line in result.skipped)


def test_a_header_wrapped_on_two_lines_is_recognised(tmp_path: Path) -> None:
    wrapped = [header.replace("时间", "\n时间") for header in CONTACTS]  # 信访\n时间
    path = workbook(tmp_path / "台账.xlsx", {
        "信访事项": (CASES, [case_row(1)]),
        "信访记录": (wrapped, [contact_row(1)]),
    })  # fmt: skip
    result = import_source(path, tmp_path / "out")
    assert result.dataset.contacts.height == 1 and not result.unmapped_headers


def test_rows_are_numbered_as_excel_shows_them_below_empty_rows(tmp_path: Path) -> None:
    path = tmp_path / "台账.xlsx"
    book = xlsxwriter.Workbook(str(path))
    for name, header, rows in (
        ("信访事项", CASES, [case_row(1), case_row(2, 登记时间="not a date")]),
        ("信访记录", CONTACTS, [contact_row(1)]),
    ):
        sheet = book.add_worksheet(name)
        sheet.write_row(3, 1, header)  # the table starts at B4, under three empty rows
        for number, row in enumerate(rows, start=4):
            sheet.write_row(number, 1, row)
    book.close()
    with pytest.raises(ContractError) as refused:
        import_source(path, tmp_path / "out")
    assert "台账.xlsx, sheet 信访事项, row 6" in " ".join(refused.value.report.error_lines(5))


def test_what_a_folder_holds_besides_its_tables_is_named_not_read(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    workbook(folder / "台账.xlsx", {
        "信访事项": (CASES, [case_row(1), ["共计", "1 件"]]),
        "信访记录": (CONTACTS, [contact_row(1)]),
    })  # fmt: skip
    (folder / "~$台账.xlsx").write_bytes(b"\x08user    ")  # Excel's lock file
    (folder / "._台账.xlsx").write_bytes(b"\x00\x05\x16\x07")  # macOS leaves these
    (folder / "说明.txt").write_text("本目录为导出数据", encoding="utf-8")
    (folder / "旧版").mkdir()
    result = import_source(folder, tmp_path / "out")
    assert result.dataset.cases.height == 1
    assert result.left_out == {"台账.xlsx, sheet 信访事项": 1}  # the 共计 row
    said = "\n".join(result.skipped)
    for name, why in (
        ("~$台账.xlsx", "lock file"), ("._台账.xlsx", "hidden file"),
        ("说明.txt", "neither CSV nor Excel"), ("旧版", "folder"),
    ):  # fmt: skip
        assert f"{name}: " in said and why in said


def test_a_workbook_cut_short_or_locked_by_a_password_is_said_as_such(tmp_path: Path) -> None:
    whole = tmp_path / "whole.xlsx"
    workbook(whole, {"信访事项": (CASES, [case_row(n) for n in range(1, 40)])})
    cut = tmp_path / "台账.xlsx"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 9 // 10])  # a copy that stopped
    with pytest.raises(SourceError, match=r"台账.xlsx: the workbook ends too soon.*copy it again"):
        import_source(cut, tmp_path / "out")
    locked = tmp_path / "加密.xlsx"  # Excel saves a workbook with a password as an OLE file
    locked.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    done = CliRunner().invoke(app, ["import", str(locked), "--out", str(tmp_path / "out")])
    assert done.exit_code == 1 and "protected by a password" in done.output
    assert "Context:" not in done.output  # the reader's own stack is left out


def test_a_csv_named_xlsx_is_said_as_such(tmp_path: Path) -> None:
    path = tmp_path / "台账.xlsx"
    path.write_text(",".join(CASES) + "\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"台账.xlsx: not an Excel workbook.*name it \.csv"):
        import_source(path, tmp_path / "out")
    done = CliRunner().invoke(app, ["import", str(path), "--out", str(tmp_path / "out")])
    assert done.exit_code != 0 and "not an Excel workbook" in done.output
    assert "Traceback" not in done.output


def test_two_exports_of_one_table_in_one_folder_are_refused(tmp_path: Path) -> None:
    """Last week's workbook beside tonight's CSV files: read together, one copy's rows
    were quarantined as repeats, and which copy survived differed from table to table.
    Sheets of one table by year share no key, and are read together as before."""
    folder = tmp_path / "drop"
    folder.mkdir()
    cases = [case_row(i) for i in range(1, 31)]
    contacts = [contact_row(i) for i in range(1, 31)]
    workbook(
        folder / "台账-上周.xlsx", {"信访事项": (CASES, cases), "信访记录": (CONTACTS, contacts)}
    )
    for name, header, rows in (
        ("信访事项.csv", CASES, cases),
        ("信访记录.csv", CONTACTS, contacts),
    ):
        lines = [",".join(header), *(",".join(str(v) for v in row) for row in rows)]
        (folder / name).write_bytes(("\n".join(lines) + "\n").encode("gbk"))
    with pytest.raises(SourceError, match=r"share 30 of their case_ids; contacts: .* two exports"):
        import_source(folder, tmp_path / "out", Mode.LENIENT)
    assert not (tmp_path / "out").exists()
    by_year = workbook(tmp_path / "按年.xlsx", {
        "2024": (CASES, cases[:15]), "2025": (CASES, cases[15:]), "信访记录": (CONTACTS, contacts),
    })  # fmt: skip
    assert import_source(by_year, tmp_path / "years").dataset.cases.height == 30


def test_a_record_beginning_like_a_total_is_kept_and_only_closing_totals_left_out(
    tmp_path: Path,
) -> None:
    """A case whose summary (the first column) began with 总计 was dropped as a totals
    row wherever it stood, and its contacts quarantined as of no case."""
    header = ["概况", *CASES]
    path = workbook(tmp_path / "台账.xlsx", {
        "信访事项": (header, [
            ["总计拖欠工资30万元，多次讨要未果", *case_row(1)],
            ["", *case_row(2)],
            ["合计", "2 件"],
        ]),
        "信访记录": (CONTACTS, [contact_row(1), contact_row(2)]),
    })  # fmt: skip
    result = import_source(path, tmp_path / "out")
    assert sorted(result.dataset.cases["case_id"].to_list()) == ["C1", "C2"]
    assert result.left_out == {"台账.xlsx, sheet 信访事项": 1}  # the closing 合计 only


def test_a_sheet_of_no_contract_table_is_passed_over_and_said(tmp_path: Path) -> None:
    """A dropdown-values sheet (问题类别 | 信访形式 | 办理环节) refused the whole import,
    lenient or not; a notes sheet was already passed over."""
    path = workbook(tmp_path / "台账.xlsx", {
        "信访事项": (CASES, [case_row(1)]),
        "信访记录": (CONTACTS, [contact_row(1)]),
        "下拉选项": (["问题类别", "信访形式", "办理环节"], [["征地补偿", "来访", "受理"]]),
    })  # fmt: skip
    result = import_source(path, tmp_path / "out")
    assert result.dataset.cases.height == 1
    said = [line for line in result.skipped if "下拉选项" in line]
    assert len(said) == 1 and "name no table of the contract" in said[0]
    assert said[0].endswith("not read (表头不对应任何数据表，未读取)")


def test_a_case_number_merged_over_its_visits_is_read_in_every_row(tmp_path: Path) -> None:
    """Offices merge a case's number down over the rows of its visits; the reader gave
    the rows under the first as empty, and they were quarantined without a case. Each
    row now takes the range's value, said once per column read (not for a column the
    import does not use)."""
    path = tmp_path / "台账.xlsx"
    book = xlsxwriter.Workbook(str(path))
    cases = book.add_worksheet("信访事项")
    cases.write_row(0, 0, CASES)
    for number in (1, 2):
        cases.write_row(number, 0, case_row(number))
    contacts = book.add_worksheet("信访记录")
    header = [*CONTACTS, "备注"]
    contacts.merge_range(0, 0, 0, len(header) - 1, "信访记录台账")  # a title: left alone
    contacts.write_row(1, 0, header)
    rows = [contact_row(1), contact_row(2, 信访件编号="C1"), contact_row(3, 信访件编号="C1"),
            contact_row(4, 信访件编号="C2")]  # fmt: skip
    for number, row in enumerate(rows, start=2):
        contacts.write_row(number, 0, row)
    case_column = CONTACTS.index("信访件编号")
    contacts.merge_range(2, case_column, 4, case_column, "C1")  # rows 3 to 5
    contacts.merge_range(2, len(CONTACTS), 3, len(CONTACTS), "同一事项")  # 备注: not read
    book.close()
    result = import_source(path, tmp_path / "out")
    read = result.dataset.contacts.sort("contact_id")
    assert read["case_id"].to_list() == ["C1", "C1", "C1", "C2"]
    warnings = [line for line in result.dataset.report.warning_lines() if "merged" in line]
    assert len(warnings) == 1, warnings
    assert "sheet 信访记录" in warnings[0] and "信访件编号" in warnings[0]
    assert "1 merged range(s) from B3:B5" in warnings[0]
