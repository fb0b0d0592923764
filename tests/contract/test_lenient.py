"""Lenient mode: unusable rows go to quarantine with a reason, no valid row is lost."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earlywarn.contract import Mode, load_dataset
from tests.conftest import (
    CASE_HEADER,
    CONTACT_HEADER,
    DatasetWriter,
    case_row,
    contact_row,
    valid_id_number,
    write_rows,
)

# Each defect turns a valid contact row into one the loader must set aside.
CONTACT_DEFECTS: dict[str, dict[str, str]] = {
    "bad_timestamp": {"occurred_at": "2025-13-01"},
    "below_minimum": {"group_size": "0"},
    "bad_integer": {"group_size": "2.5"},
    "bad_enum": {"channel": "carrier pigeon"},
    "unknown_case": {"case_id": "C9999"},
    "missing_value": {"level": ""},
    "personal_mobile": {"contact_id": "K13912345678"},
    "formula_like": {"contact_id": '=HYPERLINK("http://evil.example","K1")'},
}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    plan=st.lists(st.sampled_from([None, *CONTACT_DEFECTS]), min_size=1, max_size=30),
    ragged_at=st.sets(st.integers(0, 29), max_size=3),
)
def test_no_valid_row_is_lost(
    write_dataset: DatasetWriter, tmp_path: Path, plan: list[str | None], ragged_at: set[int]
) -> None:
    contacts = [
        contact_row(i, i % 3, **(CONTACT_DEFECTS[defect] if defect else {}))
        for i, defect in enumerate(plan)
    ]
    path = write_dataset(contacts=contacts, name="lenient")
    lines = (path / "contacts.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    ragged = sorted(i for i in ragged_at if i < len(plan))
    for i in ragged:  # cut the row short: it can no longer be split into its fields
        lines[i + 1] = ",".join(lines[i + 1].split(",")[:3]) + "\n"
    (path / "contacts.csv").write_text("".join(lines), encoding="utf-8")

    quarantine = tmp_path / "quarantine"
    dataset = load_dataset(path, Mode.LENIENT, quarantine)

    valid = {f"K{i:04d}" for i, defect in enumerate(plan) if defect is None and i not in ragged}
    assert set(dataset.contacts.get_column("contact_id")) == valid
    summary = next(s for s in dataset.report.tables if s.table == "contacts")
    assert summary.rows_read == len(plan)
    assert summary.rows_read == summary.rows_kept + summary.rows_quarantined
    if summary.rows_quarantined:
        rejected = pl.read_csv(quarantine / "contacts.csv", infer_schema=False)
        assert rejected.height == summary.rows_quarantined
        assert rejected.get_column("reason").str.len_chars().min() > 0  # type: ignore[operator]
        expected_lines = sorted(
            i + 2 for i, defect in enumerate(plan) if defect is not None or i in ragged
        )
        assert rejected.get_column("line").cast(pl.Int64).to_list() == expected_lines
    else:
        assert not (quarantine / "contacts.csv").exists()


def test_contacts_of_a_quarantined_case_follow_it(
    write_dataset: DatasetWriter, tmp_path: Path
) -> None:
    cases = [case_row(0), case_row(1, registered_at="not a date"), case_row(2)]
    path = write_dataset(cases=cases)
    dataset = load_dataset(path, Mode.LENIENT, tmp_path / "q")
    assert dataset.contacts.get_column("case_id").to_list() == ["C0000", "C0002"]
    rejected = pl.read_csv(tmp_path / "q" / "contacts.csv", infer_schema=False)
    assert rejected.get_column("reason").to_list() == ["case_id: its case was quarantined"]


def test_quarantine_masks_personal_data(write_dataset: DatasetWriter, tmp_path: Path) -> None:
    number = valid_id_number()
    cases = [
        case_row(0, petitioner_id=number, summary="电话 13812345678"),
        case_row(1),
        case_row(2),
    ]
    load_dataset(write_dataset(cases=cases), Mode.LENIENT, tmp_path / "q")
    written = (tmp_path / "q" / "cases.csv").read_text(encoding="utf-8")
    assert number not in written
    assert "13812345678" not in written
    assert "[已屏蔽 masked]" in written


def test_ragged_rows_keep_their_raw_text_redacted(tmp_path: Path) -> None:
    path = tmp_path / "d"
    path.mkdir()
    write_rows(path / "cases.csv", CASE_HEADER, [case_row(0)])
    write_rows(path / "contacts.csv", CONTACT_HEADER, [contact_row(0)])
    with (path / "contacts.csv").open("a", encoding="utf-8") as stream:
        stream.write("K0001,C0000,13812345678\n")
        stream.write("K0002,C0000,2025-03-05T10:00:00,visit,county,1\n")
    dataset = load_dataset(path, Mode.LENIENT, tmp_path / "q")
    assert dataset.contacts.get_column("contact_id").to_list() == ["K0000", "K0002"]
    rejected = pl.read_csv(tmp_path / "q" / "contacts.csv", infer_schema=False)
    assert rejected.get_column("line").to_list() == ["3"]
    assert rejected.get_column("raw").to_list() == ["K0001,C0000,[手机号]"]


def test_stale_quarantine_is_removed_when_the_data_is_fixed(
    write_dataset: DatasetWriter, tmp_path: Path
) -> None:
    path = write_dataset(contacts=[contact_row(0), contact_row(1, channel="fax")])
    load_dataset(path, Mode.LENIENT, tmp_path / "q")
    assert (tmp_path / "q" / "contacts.csv").exists()
    write_dataset(contacts=[contact_row(0), contact_row(1)])
    load_dataset(path, Mode.LENIENT, tmp_path / "q")
    assert not (tmp_path / "q" / "contacts.csv").exists()
