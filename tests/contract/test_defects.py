"""Each kind of defect an office export can carry is reported precisely: file, line, column."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.contract import ContractError, load_dataset
from tests.conftest import (
    ACTION_HEADER,
    CONTACT_HEADER,
    DatasetWriter,
    action_row,
    case_row,
    contact_row,
    valid_id_number,
    write_rows,
)

Defect = Callable[[DatasetWriter], Path]


def _missing_column(write: DatasetWriter) -> Path:
    path = write()
    frame = pl.read_csv(path / "contacts.csv", infer_schema=False).drop("level")
    frame.write_csv(path / "contacts.csv")
    return path


def _gbk_file(write: DatasetWriter) -> Path:
    path = write()
    text = (path / "cases.csv").read_text(encoding="utf-8")
    (path / "cases.csv").write_bytes(text.encode("gbk"))
    return path


def _empty_file(write: DatasetWriter) -> Path:
    path = write()
    (path / "contacts.csv").write_bytes(b"")
    return path


def _too_few_fields(write: DatasetWriter) -> Path:
    path = write()
    with (path / "contacts.csv").open("a", encoding="utf-8") as stream:
        stream.write("K0099,C0001,2025-03-05T10:00:00\n")
    return path


def _unknown_action_type(write: DatasetWriter) -> Path:
    return write(actions=[action_row(0), action_row(1, action_type="teleported")])


# (how to break the data, file, line, column, problem code)
DEFECTS: list[tuple[str, Defect, str, int | None, str | None, str]] = [
    ("missing column", _missing_column, "contacts.csv", None, "level", "missing_column"),
    (
        "bad timestamp",
        lambda w: w(
            cases=[case_row(0), case_row(1, registered_at="2025-02-30T10:00:00"), case_row(2)]
        ),
        "cases.csv",
        3,
        "registered_at",
        "bad_timestamp",
    ),
    (
        "duplicate key",
        lambda w: w(cases=[case_row(0), case_row(1), case_row(2), case_row(1)]),
        "cases.csv",
        5,
        "case_id",
        "duplicate_key",
    ),
    (
        "dangling case_id",
        lambda w: w(contacts=[contact_row(0, 0), contact_row(1, 7)]),
        "contacts.csv",
        3,
        "case_id",
        "unknown_case",
    ),
    (
        "negative group size",
        lambda w: w(contacts=[contact_row(0, 0, group_size="-2")]),
        "contacts.csv",
        2,
        "group_size",
        "below_minimum",
    ),
    (
        "unknown level",
        lambda w: w(contacts=[contact_row(0), contact_row(1, level="galaxy")]),
        "contacts.csv",
        3,
        "level",
        "bad_enum",
    ),
    (
        "unknown channel",
        lambda w: w(contacts=[contact_row(0, channel="fax")]),
        "contacts.csv",
        2,
        "channel",
        "bad_enum",
    ),
    ("unknown action type", _unknown_action_type, "actions.csv", 3, "action_type", "bad_enum"),
    (
        "ID-card number as petitioner_id",
        lambda w: w(cases=[case_row(0, petitioner_id=valid_id_number()), case_row(1), case_row(2)]),
        "cases.csv",
        2,
        "petitioner_id",
        "personal_id_number",
    ),
    ("file not UTF-8", _gbk_file, "cases.csv", None, None, "not_utf8"),
    ("empty file", _empty_file, "contacts.csv", None, None, "empty_file"),
    ("row with too few fields", _too_few_fields, "contacts.csv", 5, None, "wrong_field_count"),
    (
        "mobile number as petitioner_id",
        lambda w: w(cases=[case_row(0, petitioner_id="13812345678"), case_row(1), case_row(2)]),
        "cases.csv",
        2,
        "petitioner_id",
        "personal_mobile",
    ),
    (
        "a name where a pseudonym belongs",
        lambda w: w(cases=[case_row(0), case_row(1, petitioner_id="王小明"), case_row(2)]),
        "cases.csv",
        3,
        "petitioner_id",
        "personal_name",
    ),
    (
        "missing required value",
        lambda w: w(contacts=[contact_row(0, occurred_at="")]),
        "contacts.csv",
        2,
        "occurred_at",
        "missing_value",
    ),
    (
        "outcome of another action type",
        lambda w: w(actions=[action_row(0, action_type="accepted", outcome="satisfied")]),
        "actions.csv",
        2,
        "outcome",
        "outcome_not_allowed",
    ),
    (
        "group size that is not a number",
        lambda w: w(contacts=[contact_row(0, group_size="five")]),
        "contacts.csv",
        2,
        "group_size",
        "bad_integer",
    ),
]


@pytest.mark.parametrize(
    ("defect", "file", "line", "column", "code"),
    [pytest.param(d, f, ln, c, code, id=name) for name, d, f, ln, c, code in DEFECTS],
)
def test_each_defect_is_reported_with_file_line_and_column(
    write_dataset: DatasetWriter,
    defect: Defect,
    file: str,
    line: int | None,
    column: str | None,
    code: str,
) -> None:
    path = defect(write_dataset)
    with pytest.raises(ContractError) as raised:
        load_dataset(path)
    errors = raised.value.report.errors
    found = errors.filter(
        (pl.col("file") == file)
        & (pl.col("code") == code)
        & (pl.col("line").eq_missing(line))
        & (pl.col("column").eq_missing(column))
    )
    assert found.height == 1, errors
    # Nothing else is wrong with these datasets: exactly one problem is reported.
    assert errors.height == 1, errors


@pytest.mark.parametrize(
    ("defect", "file", "line", "column", "code"), [DEFECTS[1][1:], DEFECTS[9][1:]]
)
def test_validate_prints_the_place_and_exits_non_zero(
    write_dataset: DatasetWriter,
    defect: Defect,
    file: str,
    line: int | None,
    column: str | None,
    code: str,
    tmp_path: Path,
) -> None:
    path = defect(write_dataset)
    result = CliRunner().invoke(app, ["validate", str(path), "--issues", str(tmp_path / "i.csv")])
    assert result.exit_code == 1
    expected = file + (f", line {line}" if line else "") + (f", column {column}" if column else "")
    assert expected in result.output


def test_gbk_export_is_named_with_a_fix(write_dataset: DatasetWriter) -> None:
    with pytest.raises(ContractError) as raised:
        load_dataset(_gbk_file(write_dataset))
    (message,) = raised.value.report.error_lines()
    assert "GBK" in message
    assert "iconv" in message


def test_personal_data_is_never_echoed(write_dataset: DatasetWriter) -> None:
    number = valid_id_number()
    path = write_dataset(cases=[case_row(0, petitioner_id=number), case_row(1), case_row(2)])
    with pytest.raises(ContractError) as raised:
        load_dataset(path)
    assert number not in "\n".join(raised.value.report.error_lines())


def test_mobile_in_summary_is_redacted_with_a_warning(write_dataset: DatasetWriter) -> None:
    path = write_dataset(
        cases=[case_row(0, summary="请联系13812345678处理"), case_row(1), case_row(2)]
    )
    dataset = load_dataset(path)
    summary = dataset.cases.filter(pl.col("case_id") == "C0000").get_column("summary").item()
    assert "13812345678" not in summary
    assert "[手机号]" in summary
    warning = dataset.report.warnings.filter(pl.col("code") == "summary_redacted")
    assert warning.get_column("count").to_list() == [1]


def test_both_formats_warn_and_name_the_one_used(write_dataset: DatasetWriter) -> None:
    path = write_dataset()
    pl.read_csv(path / "cases.csv", infer_schema=False).write_parquet(path / "cases.parquet")
    dataset = load_dataset(path)
    (line,) = [w for w in dataset.report.warning_lines() if "Parquet" in w]
    assert line.startswith("cases.parquet") and "cases.csv ignored" in line


def test_unknown_category_becomes_other_with_one_counted_warning(
    write_dataset: DatasetWriter,
) -> None:
    cases = [case_row(0, category="ufo"), case_row(1, category="ghosts"), case_row(2)]
    dataset = load_dataset(write_dataset(cases=cases))
    assert dataset.cases.get_column("category").cast(pl.String).to_list()[:2] == ["other", "other"]
    (warning,) = dataset.report.warnings.filter(pl.col("code") == "unknown_category").iter_rows(
        named=True
    )
    assert warning["count"] == 2


def test_extra_columns_are_warned_once_each_and_dropped(write_dataset: DatasetWriter) -> None:
    path = write_dataset()
    frame = pl.read_csv(path / "cases.csv", infer_schema=False)
    frame.with_columns(pl.lit("x").alias("ethnicity")).write_csv(path / "cases.csv")
    dataset = load_dataset(path)
    assert "ethnicity" not in dataset.cases.columns
    assert dataset.report.warnings.filter(pl.col("code") == "extra_column").height == 1


def test_header_only_contacts_is_an_error(write_dataset: DatasetWriter) -> None:
    path = write_dataset()
    write_rows(path / "contacts.csv", CONTACT_HEADER, [])
    with pytest.raises(ContractError) as raised:
        load_dataset(path)
    assert raised.value.report.errors.get_column("code").to_list() == ["no_rows"]


def test_missing_required_file_is_named(write_dataset: DatasetWriter) -> None:
    path = write_dataset()
    (path / "contacts.csv").unlink()
    with pytest.raises(ContractError) as raised:
        load_dataset(path)
    assert raised.value.report.errors.get_column("code").to_list() == ["missing_file"]


def test_lines_count_embedded_newlines(write_dataset: DatasetWriter) -> None:
    cases = [
        case_row(0, summary="第一行\n第二行\n第三行"),
        case_row(1),
        case_row(2, registered_at="yesterday"),
    ]
    with pytest.raises(ContractError) as raised:
        load_dataset(write_dataset(cases=cases))
    assert raised.value.report.errors.get_column("line").to_list() == [6]


def test_a_short_row_after_quoted_line_breaks_is_named_by_its_line(
    write_dataset: DatasetWriter,
) -> None:
    path = write_dataset(cases=[case_row(0, summary="a\nb"), case_row(1, summary="c\nd")])
    with (path / "cases.csv").open("a", encoding="utf-8") as file:
        file.write("C0009,P0009,2025-03-04T09:30:00\n")  # line 6: too few fields
        file.write(",".join(case_row(3, registered_at="x").values()) + "\n")  # line 7
    with pytest.raises(ContractError) as raised:
        load_dataset(path)
    errors = raised.value.report.errors.filter(pl.col("file") == "cases.csv")
    assert errors.select("line", "code").rows() == [(6, "wrong_field_count"), (7, "bad_timestamp")]


def test_actions_are_optional(write_dataset: DatasetWriter) -> None:
    dataset = load_dataset(write_dataset())
    assert dataset.actions is None
    assert ACTION_HEADER  # the header exists for datasets that have actions


@pytest.mark.parametrize("name", ["cases.csv", "calendar.yaml"])
def test_a_symbolic_link_is_refused_and_its_target_never_echoed(
    write_dataset: DatasetWriter, tmp_path: Path, name: str
) -> None:
    secret = tmp_path / "outside.txt"
    secret.write_text("root:x:0:0:secret-line\n", encoding="utf-8")
    path = write_dataset()
    (path / name).unlink(missing_ok=True)
    (path / name).symlink_to(secret)
    with pytest.raises(ContractError) as raised:
        load_dataset(path)
    report = raised.value.report
    assert "not_a_regular_file" in report.issues["code"].to_list()
    assert "secret-line" not in " ".join(report.error_lines(limit=100))
    assert not any("secret-line" in str(v) for row in report.issues.iter_rows() for v in row)
