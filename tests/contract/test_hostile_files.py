"""Files no office meant to write: Parquet columns of the wrong kind, counts no group has,
personal data in the wrong column, cells a spreadsheet would run. Each is named or
redacted; none ends in a traceback."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from earlywarn.contract import ContractError, Mode, load_dataset
from tests.conftest import DatasetWriter, case_row, contact_row

MOBILE = "13812345678"


def _parquet(write: DatasetWriter, cases: pl.DataFrame, contacts: pl.DataFrame) -> Path:
    """A dataset whose tables are Parquet files with the given columns."""
    path = write()
    (path / "cases.csv").unlink()
    (path / "contacts.csv").unlink()
    cases.write_parquet(path / "cases.parquet")
    contacts.write_parquet(path / "contacts.parquet")
    return path


def _frames(**changes: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    cases = pl.DataFrame([case_row(i) for i in range(3)])
    contacts = pl.DataFrame([contact_row(i, case=i) for i in range(3)])
    for name, series in changes.items():
        frame = cases if name in cases.columns else contacts
        if frame is cases:
            cases = cases.with_columns(series.alias(name))
        else:
            contacts = contacts.with_columns(series.alias(name))
    return cases, contacts


def test_numbers_where_text_belongs_are_read_as_their_text(write_dataset: DatasetWriter) -> None:
    cases, contacts = _frames(
        county_code=pl.Series([330211, 330211, 330212]),
        summary=pl.Series([int(MOBILE), 1, 2]),  # redacted whatever the column's type
    )
    dataset = load_dataset(_parquet(write_dataset, cases, contacts))
    assert dataset.cases["county_code"].to_list() == ["330211", "330211", "330212"]
    assert dataset.cases["summary"].to_list()[0] == "[手机号]"


def test_a_column_of_lists_is_named(write_dataset: DatasetWriter) -> None:
    cases, contacts = _frames(case_id=pl.Series([["C0000"], ["C0001"], ["C0002"]]))
    with pytest.raises(ContractError) as raised:
        load_dataset(_parquet(write_dataset, cases, contacts))
    assert "cases.parquet, column case_id: column holds lists or records" in str(raised.value)


@pytest.mark.parametrize("size", [3_000_000_000, 1e10])
def test_a_group_larger_than_a_count_can_hold_is_quarantined(
    write_dataset: DatasetWriter, tmp_path: Path, size: float
) -> None:
    cases, contacts = _frames(group_size=pl.Series([size, 2, 3]))
    dataset = load_dataset(_parquet(write_dataset, cases, contacts), Mode.LENIENT, tmp_path / "q")
    summary = {s.table: s for s in dataset.report.tables}["contacts"]
    assert (summary.rows_read, summary.rows_kept, summary.rows_quarantined) == (3, 2, 1)
    assert (
        "too large for a count of people"
        in pl.read_csv(tmp_path / "q" / "contacts.csv")["reason"].item()
    )


def test_personal_data_in_any_column_is_never_echoed_and_cells_never_run(
    write_dataset: DatasetWriter, tmp_path: Path
) -> None:
    cases = [
        case_row(0, registered_at=f"tel {MOBILE}"),  # a number where a moment belongs
        case_row(1, category='=HYPERLINK("http://x")', nature="@SUM(A1)", registered_at="x"),
        case_row(2),
    ]
    path = write_dataset(cases=cases)
    dataset = load_dataset(path, Mode.LENIENT, tmp_path / "q")
    said = "\n".join(dataset.report.error_lines() + dataset.report.warning_lines())
    assert MOBILE not in said and "[手机号]" in said
    written = (tmp_path / "q" / "cases.csv").read_text("utf-8")
    assert MOBILE not in written
    rejected = pl.read_csv(tmp_path / "q" / "cases.csv", infer_schema=False)
    assert rejected.filter(pl.col("case_id") == "C0001")["nature"].item() == "'@SUM(A1)"


def _cases_csv(write: DatasetWriter, text: str) -> Path:
    path = write()
    (path / "cases.csv").write_text(text, "utf-8")
    return path


def _said(path: Path) -> str:
    with pytest.raises(ContractError) as raised:
        load_dataset(path)
    return "\n".join(raised.value.report.error_lines())


def test_a_header_naming_a_column_twice_is_named(write_dataset: DatasetWriter) -> None:
    header = "case_id,petitioner_id,registered_at,county_code,category,case_id\n"
    said = _said(_cases_csv(write_dataset, header + "C0000,P0,2025-03-04,CTY01,other,C0000\n"))
    assert "cases.csv: the header names a column twice" in said and "case_id" in said


def test_a_quoted_field_never_closed_is_named_by_its_line(write_dataset: DatasetWriter) -> None:
    header = "case_id,petitioner_id,registered_at,county_code,category,summary\n"
    rows = 'C0000,P0,2025-03-04,CTY01,other,"never closed\nC0001,P1,2025-03-04,CTY01,other,ok\n'
    said = _said(_cases_csv(write_dataset, header + rows))
    assert "cases.csv: a quoted field is never closed" in said and "line 2" in said
    long_header = '"' + "x" * 200_000 + "\n"  # beyond Python csv's default field limit
    assert "never closed" in _said(_cases_csv(write_dataset, long_header))


def test_a_summary_longer_than_arrows_default_block_is_read(write_dataset: DatasetWriter) -> None:
    cases = [case_row(0, summary="长" * 1_200_000), case_row(1), case_row(2)]
    dataset = load_dataset(write_dataset(cases=cases))
    assert dataset.cases["summary"].str.len_chars().max() == 1_200_000


def test_a_calendar_field_that_is_no_list_is_named(write_dataset: DatasetWriter) -> None:
    path = write_dataset()
    (path / "calendar.yaml").write_text(
        "periods:\n  - {key: x, start: 2025-01-01, end: 2025-01-02, counties: 330211}\n", "utf-8"
    )
    assert "counties: must be a list, e.g. [330211]" in _said(path)


def test_lines_of_separators_only_are_counted_in_a_warning(write_dataset: DatasetWriter) -> None:
    """A spreadsheet saves its formatted empty rows as ``,,,,``: no value, so no row, but
    said, with where they are."""
    header = "case_id,petitioner_id,registered_at,county_code,category\n"
    rows = [f"C000{i},P{i},2025-03-04,CTY01,other" for i in range(3)]
    rows[1:1], rows[3:3] = [",,,,"], [",,,,"]
    path = _cases_csv(write_dataset, header + "\n".join(rows) + "\n")
    dataset = load_dataset(path)
    assert dataset.cases["case_id"].to_list() == ["C0000", "C0001", "C0002"]
    warnings = dataset.report.warnings.filter(pl.col("code") == "empty_rows")
    assert warnings.select("file", "line", "count", "detail").rows() == [
        ("cases.csv", 3, 2, "lines 3, 5")
    ]
    assert any("lines 3, 5" in line for line in dataset.report.warning_lines())
