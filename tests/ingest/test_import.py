"""``earlywarn import``: an office's workbook or GBK CSV files in, the same dataset out;
and every defect named by workbook, sheet, row and source header."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.contract import ContractError, Mode, load_dataset
from earlywarn.features.build import build_features
from earlywarn.ingest.mapping_file import MappingFileError, mapping_json_schema, read_mapping
from earlywarn.ingest.merge import MergeCounts, merge_tables
from earlywarn.ingest.run import IMPORT_REPORT, MappingError, SourceError, import_source
from earlywarn.simulator.export import simulate_to_directory
from earlywarn.simulator.run import SimulationConfig
from tests.conftest import DatasetWriter, valid_id_number
from tests.ingest.office_sheets import CASES, CONTACTS, case_row, contact_row, workbook

CONFIG = SimulationConfig(cases=300, start=dt.date(2023, 6, 1), end=dt.date(2024, 12, 31), seed=3)
AS_OF = dt.datetime(2024, 10, 1)


@pytest.fixture(scope="module")
def contract_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("contract")
    simulate_to_directory(CONFIG, out)
    return out


def _features(path: Path) -> pl.DataFrame:
    frame = build_features(load_dataset(path), [AS_OF]).sort("case_id")
    return frame.with_columns(pl.col(pl.Enum, pl.Categorical).cast(pl.String))


@pytest.mark.slow  # simulates, exports and imports twice: seconds each
@pytest.mark.parametrize("kind", ["xlsx-office", "csv-gbk"])
def test_an_office_export_imports_to_the_same_features(
    contract_dataset: Path, tmp_path: Path, kind: str
) -> None:
    exported = tmp_path / kind
    simulate_to_directory(CONFIG, exported, kind)
    imported = tmp_path / "imported"
    result = import_source(exported, imported)
    assert {table for _, table, _, _ in result.sources} == {"cases", "contacts", "actions"}
    if kind == "csv-gbk":
        assert {encoding for *_, encoding in result.sources} == {"GB18030/GBK"}
    else:  # contacts kept one sheet a year: concatenated
        assert sum(1 for _, table, _, _ in result.sources if table == "contacts") == 2
    assert not result.unmapped_values and not result.unmapped_headers
    assert _features(imported).equals(_features(contract_dataset))
    import_source(exported, tmp_path / "again")  # same input, same bytes
    for name in ("cases", "contacts", "actions"):
        assert (imported / f"{name}.parquet").read_bytes() == (
            tmp_path / "again" / f"{name}.parquet"
        ).read_bytes()


def _errors(path: Path, tmp_path: Path) -> list[str]:
    with pytest.raises(ContractError) as raised:
        import_source(path, tmp_path / "out")
    return raised.value.report.error_lines()


Defect = Callable[[], tuple[list[list[Any]], list[list[Any]]]]
DEFECTS: dict[str, tuple[Defect, str]] = {
    "bad date": (
        lambda: ([case_row(1)], [contact_row(1, 信访时间="2025-02-30")]),
        "信访台账.xlsx, sheet 信访记录, row 3, column 信访时间 (occurred_at)",
    ),
    "unknown office": (
        lambda: ([case_row(1)], [contact_row(1, 登记机关="某某协会")]),
        "sheet 信访记录, row 3, column 登记机关 (level)",
    ),
    "ID number as 信访人编号": (
        lambda: ([case_row(1, 信访人编号=valid_id_number())], [contact_row(1)]),
        "sheet 信访事项, row 3, column 信访人编号 (petitioner_id)",
    ),
    "a case twice": (
        lambda: ([case_row(1), case_row(2), case_row(1, 问题类别="拖欠工资")], [contact_row(1)]),
        "sheet 信访事项, row 5, column 信访件编号 (case_id)",
    ),
    "a contact of no case": (
        lambda: ([case_row(1)], [contact_row(1), contact_row(7)]),
        "sheet 信访记录, row 4, column 信访件编号 (case_id)",
    ),
    "zero people": (
        lambda: ([case_row(1)], [contact_row(1, 人数=0)]),
        "sheet 信访记录, row 3, column 人数 (group_size)",
    ),
}


@pytest.mark.parametrize("defect", list(DEFECTS))
def test_defects_are_named_by_workbook_sheet_row_and_header(tmp_path: Path, defect: str) -> None:
    make, where = DEFECTS[defect]
    cases, contacts = make()
    path = workbook(tmp_path / "信访台账.xlsx", {
        "信访事项": (CASES, cases), "信访记录": (CONTACTS, contacts)
    })  # fmt: skip
    errors = _errors(path, tmp_path)
    assert any(where in line for line in errors), errors
    assert valid_id_number() not in " ".join(errors)
    assert not (tmp_path / "out" / "cases.parquet").exists()  # nothing written


def test_lenient_import_quarantines_and_counts(tmp_path: Path) -> None:
    path = workbook(tmp_path / "信访台账.xlsx", {
        "信访事项": (CASES, [case_row(1), case_row(2)]),
        "信访记录": (CONTACTS, [contact_row(1), contact_row(2, 信访时间="不详")]),
    })  # fmt: skip
    result = import_source(path, tmp_path / "out", Mode.LENIENT, tmp_path / "quarantine")
    summary = {s.table: s for s in result.dataset.report.tables}
    assert (summary["contacts"].rows_read, summary["contacts"].rows_kept) == (2, 1)
    assert summary["contacts"].rows_quarantined == 1
    quarantined = pl.read_csv(tmp_path / "quarantine" / "contacts.csv", infer_schema=False)
    assert quarantined.row(0, named=True)["source"] == "信访台账.xlsx, sheet 信访记录"
    assert quarantined.row(0, named=True)["source_row"] == "4"


def test_whole_source_problems(tmp_path: Path) -> None:
    missing = workbook(tmp_path / "a.xlsx", {
        "信访事项": (CASES, [case_row(1)]),
        "信访记录": ([h for h in CONTACTS if h != "登记机关"], [[*contact_row(1)[:4], 1]]),
    })  # fmt: skip
    assert any("sheet 信访记录, column level" in e for e in _errors(missing, tmp_path))
    twice = workbook(tmp_path / "b.xlsx", {
        "信访事项": (CASES, [case_row(1)]),
        "信访记录": ([*CONTACTS, "来访人数"], [[*contact_row(1), 2]]),
    })  # fmt: skip
    with pytest.raises(MappingError, match="both map to column group_size") as refused:
        import_source(twice, tmp_path / "out")
    assert "headers: {contacts: {来访人数: null}}" in str(refused.value)
    # Done as said: the second header is left unread, and named as not used.
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("headers:\n  contacts:\n    来访人数: null\n", encoding="utf-8")
    read = import_source(twice, tmp_path / "out", mapping=read_mapping(mapping))
    assert read.dataset.contacts["group_size"].to_list() == [1]
    assert read.unmapped_headers == {"b.xlsx, sheet 信访记录": ["来访人数"]}
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SourceError, match="no CSV file or workbook"):
        import_source(empty, tmp_path / "out")


def test_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EARLYWARN_WORK_DIR", str(tmp_path / "work"))
    path = workbook(tmp_path / "信访台账.xlsx", {
        "信访事项": (CASES, [case_row(1)]),
        "信访记录": (
            CONTACTS, [contact_row(1, 登记机关="某某协会"), contact_row(2, 信访件编号="C1")]
        ),
    })  # fmt: skip
    runner = CliRunner()
    failed = runner.invoke(app, ["import", str(path), "--out", str(tmp_path / "out")])
    assert failed.exit_code == 1
    assert "sheet 信访记录, row 3, column 登记机关 (level)" in failed.output
    assert "某某协会" in failed.output  # the unmapped value, listed once with its count
    done = runner.invoke(
        app, ["import", str(path), "--out", str(tmp_path / "out"), "--mode", "lenient"]
    )
    assert done.exit_code == 0, done.output


def test_a_mapping_file_suggested_filled_in_and_used(tmp_path: Path) -> None:
    headers = [("接谈时间" if h == "信访时间" else h) for h in CONTACTS]
    path = workbook(tmp_path / "台账.xlsx", {
        "信访事项": (CASES, [case_row(1, 问题类别="征迁补偿"), case_row(2)]),
        "信访记录": (headers, [contact_row(1, 登记机关="江海市信访局"), contact_row(2)]),
    })  # fmt: skip
    assert any("column occurred_at" in e for e in _errors(path, tmp_path))
    runner = CliRunner()
    suggested = runner.invoke(app, ["import", str(path), "--suggest-mapping"])
    assert suggested.exit_code == 0, suggested.output
    assert '"接谈时间": ""' in suggested.stdout and '"征迁补偿": ""' in suggested.stdout
    filled = (
        suggested.stdout.replace('"接谈时间": ""', '"接谈时间": occurred_at')
        .replace('"征迁补偿": ""', '"征迁补偿": demolition_resettlement')
        .replace("offices: {}", "offices: {江海市信访局: county}")
    )
    mapping_path = tmp_path / "mapping.yaml"
    mapping_path.write_text(filled, encoding="utf-8")
    result = import_source(path, tmp_path / "out", mapping=read_mapping(mapping_path))
    cases = result.dataset.cases.sort("case_id")
    assert cases["category"].cast(pl.String).to_list() == [
        "demolition_resettlement",
        "land_requisition",
    ]
    levels = result.dataset.contacts.sort("case_id")["level"].cast(pl.String).to_list()
    assert levels == ["county", "county"]  # a county-level city, named in the mapping file


def test_a_bad_mapping_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text("headers:\n  contacts:\n    接谈时间: when\n", encoding="utf-8")
    with pytest.raises(MappingFileError, match=r"mapping.yaml.*'when' is not a column"):
        read_mapping(path)
    path.write_text("tabels: {}\ndatabase:\n  cases: {}\n", encoding="utf-8")
    with pytest.raises(MappingFileError) as both:  # every problem at once
        read_mapping(path)
    assert "tabels" in str(both.value) and "database.cases" in str(both.value)


def test_the_mapping_schema_is_current() -> None:
    import json

    from earlywarn.resources import data_dir

    committed = json.loads(
        (data_dir() / "schema" / "import-mapping.schema.json").read_text("utf-8")
    )
    assert committed == mapping_json_schema(), "run `make schema`"


def _case_system_database(url: str, contract_dataset: Path, empty_text: bool = False) -> None:
    """A case system's own tables: Chinese column names and values, offices' names;
    with ``empty_text`` every missing text an empty string, as a system whose columns are
    ``NOT NULL DEFAULT ''`` keeps it."""
    from sqlalchemy import create_engine

    from earlywarn.simulator.office_files import office_tables

    dataset = load_dataset(contract_dataset)
    assert dataset.actions is not None
    tables = {"cases": dataset.cases, "contacts": dataset.contacts, "actions": dataset.actions}
    engine = create_engine(url)
    names = {"cases": "xf_case", "contacts": "xf_visit", "actions": "xf_action"}
    for name, frame in office_tables(tables).items():
        if empty_text:
            frame = frame.with_columns(pl.col(pl.String).fill_null(""))
        frame.to_pandas().to_sql(names[name], engine, index=False, if_exists="replace")
    engine.dispose()


DATABASE_MAPPING = """
database:
  cases: {table: xf_case}
  contacts: {query: "SELECT * FROM xf_visit"}
  actions: {table: xf_action}
"""


def _import_database(
    url: str, contract_dataset: Path, tmp_path: Path, empty_text: bool = False
) -> None:
    _case_system_database(url, contract_dataset, empty_text)
    mapping_path = tmp_path / "mapping.yaml"
    mapping_path.write_text(DATABASE_MAPPING, encoding="utf-8")
    result = import_source(url, tmp_path / "imported", mapping=read_mapping(mapping_path))
    assert {table for _, table, _, _ in result.sources} == {"cases", "contacts", "actions"}
    assert _features(tmp_path / "imported").equals(_features(contract_dataset))


def test_a_case_system_database_sqlite(contract_dataset: Path, tmp_path: Path) -> None:
    _import_database(f"sqlite:///{tmp_path / 'cases.db'}", contract_dataset, tmp_path, True)
    with pytest.raises(SourceError, match="database section"):
        import_source(f"sqlite:///{tmp_path / 'cases.db'}", tmp_path / "out")
    mapping = read_mapping(tmp_path / "mapping.yaml")
    with pytest.raises(SourceError, match=r"no such database file .*case\.db"):
        import_source(f"sqlite:///{tmp_path / 'case.db'}", tmp_path / "out", mapping=mapping)
    assert not (tmp_path / "case.db").exists()  # a typo leaves no empty database behind


def test_every_command_takes_a_database_url_with_the_settings_mapping_file(
    contract_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`daily --source sqlite:///...` read the URL as a folder that is not there, and no
    command took a mapping file: the nightly job could not read a case system."""
    database = tmp_path / "cases.db"
    _case_system_database(f"sqlite:///{database}", contract_dataset)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(DATABASE_MAPPING, encoding="utf-8")
    monkeypatch.setenv("EARLYWARN_WORK_DIR", str(tmp_path / "work"))
    out = tmp_path / "features.parquet"
    args = [
        "features",
        "--data",
        f"sqlite:///{database}",
        "--as-of",
        "2024-10-01",
        "--out",
        str(out),
    ]
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 1 and "mapping file with a database section" in refused.output
    monkeypatch.setenv("EARLYWARN_IMPORT_MAPPING", str(mapping))
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    assert (tmp_path / "work" / "imported" / "database" / "cases.parquet").exists()
    assert pl.read_parquet(out).height > 0
    secret = "postgresql+psycopg://reader:s3cret@127.0.0.1:1/cases"  # nothing listens there
    unreachable = CliRunner().invoke(app, [*args[:2], secret, *args[3:]])
    assert unreachable.exit_code == 1 and "s3cret" not in unreachable.output
    assert "reader:***@127.0.0.1:1/cases" in unreachable.output


@pytest.mark.slow
def test_a_case_system_database_postgres(
    contract_dataset: Path, tmp_path: Path, pg_url: str
) -> None:
    _import_database(
        pg_url.replace("postgresql://", "postgresql+psycopg://"), contract_dataset, tmp_path
    )


def test_a_newer_export_merges_by_keys(tmp_path: Path) -> None:
    """The night's export replaces the cases it holds, keeps the others, and importing
    the same export twice changes nothing, byte for byte."""
    first = workbook(tmp_path / "a.xlsx", {
        "信访事项": (CASES, [case_row(1), case_row(2)]),
        "信访记录": (CONTACTS, [contact_row(1), contact_row(2), contact_row(3, 信访件编号="C2")]),
    })  # fmt: skip
    out = tmp_path / "dataset"
    import_source(first, out)
    newer = workbook(tmp_path / "b.xlsx", {
        "信访事项": (CASES, [case_row(2, 问题类别="拖欠工资"), case_row(3)]),
        "信访记录": (CONTACTS, [contact_row(2), contact_row(4, 信访件编号="C3")]),
    })  # fmt: skip
    result = import_source(newer, out)
    cases, contacts = result.merged["cases"], result.merged["contacts"]
    assert (cases.added, cases.changed, cases.unchanged, cases.kept) == (1, 1, 0, 1)
    assert (contacts.added, contacts.unchanged, contacts.kept, contacts.removed) == (1, 1, 1, 1)
    merged = load_dataset(out)
    assert merged.cases["case_id"].to_list() == ["C1", "C2", "C3"]
    assert merged.contacts["contact_id"].to_list() == ["K1", "K2", "K4"]
    before = {p.name: p.read_bytes() for p in out.glob("*.parquet")}
    again = import_source(newer, out)
    assert again.merged["cases"].unchanged == 2 and again.merged["cases"].added == 0
    assert {p.name: p.read_bytes() for p in out.glob("*.parquet")} == before


def test_a_column_the_export_lacks_keeps_its_values_and_an_empty_one_clears_them(
    tmp_path: Path,
) -> None:
    """A view that stops returning 承办单位 says nothing of the units: the re-exported
    cases keep them (and the import says so); an export that has the column but leaves it
    empty clears them (the office may have), and says that."""
    unit = [*CASES, "承办单位"]
    twelve = range(1, 13)
    visits = (CONTACTS, [contact_row(i) for i in twelve])
    with_units = [[*case_row(i), f"U{i}"] for i in twelve]
    first = workbook(tmp_path / "a.xlsx", {"信访事项": (unit, with_units), "信访记录": visits})
    out = tmp_path / "dataset"
    import_source(first, out)
    without = workbook(tmp_path / "b.xlsx", {
        "信访事项": (CASES, [case_row(i, 问题类别="拖欠工资") for i in twelve] + [case_row(13)]),
        "信访记录": (CONTACTS, [contact_row(i) for i in range(1, 14)]),
    })  # fmt: skip
    result = import_source(without, out)
    assert result.kept == ["cases.responsible_unit (12 values before)"] and result.emptied == []
    cases = load_dataset(out).cases
    units = dict(zip(cases["case_id"], cases["responsible_unit"], strict=True))
    assert units == {f"C{i}": f"U{i}" for i in twelve} | {"C13": None}
    assert set(cases.filter(pl.col("case_id") != "C13")["category"]) == {"wage_arrears"}
    assert result.merged["cases"].changed == 12 and result.merged["cases"].added == 1
    report = json.loads((out / IMPORT_REPORT).read_text(encoding="utf-8"))
    assert report["columns_missing_values_kept"] == result.kept
    without_units = [[*case_row(i), None] for i in twelve]
    empty = workbook(tmp_path / "c.xlsx", {"信访事项": (unit, without_units), "信访记录": visits})
    cleared = import_source(empty, out)
    assert cleared.emptied == ["cases.responsible_unit (12 values before)"] and cleared.kept == []
    assert load_dataset(out).cases["responsible_unit"].null_count() == 13


def test_an_export_without_a_table_keeps_that_table() -> None:
    """A night's export without the handling steps' sheet leaves the steps as they were:
    the office did not undo them, it left them out."""
    existing = {
        "cases": pl.DataFrame({"case_id": ["C1", "C2"]}),
        "actions": pl.DataFrame({"action_id": ["A1", "A2"], "case_id": ["C1", "C2"]}),
    }
    merged, counts = merge_tables(existing, {"cases": pl.DataFrame({"case_id": ["C1"]})})
    assert merged["actions"]["action_id"].to_list() == ["A1", "A2"]
    assert counts["actions"] == MergeCounts(added=0, changed=0, unchanged=0, kept=2, removed=0)


def test_an_export_saved_as_cases_csv_is_imported_not_read_as_the_contract(
    tmp_path: Path, write_dataset: DatasetWriter
) -> None:
    """``--data`` reads a directory as the contract's tables only when its cases.csv
    names ``case_id``; an office's own export of that name (Chinese headers, GBK) is
    imported like any other export."""
    from earlywarn.commands.app import dataset_path
    from earlywarn.settings import load_settings

    settings = load_settings(work_dir=tmp_path / "work")
    export = tmp_path / "export"
    export.mkdir()
    for name, header, row in (
        ("cases", CASES, case_row(1)),
        ("contacts", CONTACTS, contact_row(1)),
    ):
        lines = [",".join(header), ",".join(str(value) for value in row)]
        (export / f"{name}.csv").write_bytes(("\n".join(lines) + "\n").encode("gbk"))
    imported = dataset_path(export, settings)
    assert imported == tmp_path / "work" / "imported" / "export"
    assert load_dataset(imported).cases["case_id"].to_list() == ["C1"]
    contract = write_dataset()
    assert dataset_path(contract, settings) == contract


@pytest.mark.slow
def test_commands_take_an_export_as_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EARLYWARN_WORK_DIR", str(tmp_path / "work"))
    exported = tmp_path / "export"
    simulate_to_directory(CONFIG, exported, "csv-gbk")
    out = tmp_path / "features.parquet"
    args = ["features", "--data", str(exported), "--as-of", "2024-10-01", "--out", str(out)]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    assert (tmp_path / "work" / "imported" / "export" / "cases.parquet").exists()
    assert pl.read_parquet(out).height > 0


def test_sheets_without_a_table_and_unknown_categories_are_reported(tmp_path: Path) -> None:
    path = workbook(tmp_path / "台账.xlsx", {
        "说明": (["填表说明"], [["本表由信访办导出"]]),
        "信访事项": (CASES, [case_row(1, 问题类别="征迁补偿")]),
        "信访记录": (CONTACTS, [contact_row(1)]),
    })  # fmt: skip
    result = import_source(path, tmp_path / "out")
    assert len(result.skipped) == 1
    assert result.skipped[0].startswith("台账.xlsx, sheet 说明: no row among its first 20 names")
    assert result.unmapped_values == {("category", "征迁补偿"): 1}
    assert result.dataset.cases["category"].cast(pl.String).to_list() == ["other"]
    warnings = result.dataset.report.warning_lines()
    assert any(
        "台账.xlsx, sheet 信访事项, row 3, column 问题类别 (category)" in line
        and "征迁补偿" in line
        for line in warnings
    ), warnings
    # The import leaves its report beside the dataset; monitoring judges it.
    import datetime as dt

    from earlywarn.ingest.run import IMPORT_REPORT
    from earlywarn.serving.monitor.quality import data_quality

    report = json.loads((tmp_path / "out" / IMPORT_REPORT).read_text(encoding="utf-8"))
    assert report["unmapped_values"] == [{"column": "category", "value": "征迁补偿", "rows": 1}]
    checks = {c.check: c for c in data_quality(result.dataset, dt.datetime(2026, 1, 1))}
    assert checks["unmapped_share"].status == "alert"  # one row of two: far above 1%
    assert checks["unmapped_share"].detail["values"][0]["value"] == "征迁补偿"


def test_title_and_total_rows_are_accounted_for(tmp_path: Path) -> None:
    """Rows that hold no record (blank, 合计) are not imported, and said so per source."""
    path = workbook(tmp_path / "台账.xlsx", {
        "信访事项": (CASES, [case_row(1), [None] * len(CASES), ["合计", 1]]),
        "信访记录": (CONTACTS, [contact_row(1)]),
    })  # fmt: skip
    result = import_source(path, tmp_path / "out")
    assert result.left_out == {"台账.xlsx, sheet 信访事项": 2}
    assert result.dataset.cases.height == 1


def test_a_database_code_stored_as_a_float_is_read_whole() -> None:
    from earlywarn.ingest.database_source import as_text

    codes = pl.Series([330213007.0, None, 12.0])
    assert as_text(codes).to_list() == ["330213007", None, "12"]
    assert as_text(pl.Series([2.5, 3.0])).to_list() == ["2.5", "3.0"]  # not all whole
    assert as_text(pl.Series(["C1", None])).to_list() == ["C1", None]


def test_an_export_whose_rows_are_all_quarantined_is_not_written(tmp_path: Path) -> None:
    path = workbook(tmp_path / "信访台账.xlsx", {
        "信访事项": (CASES, [case_row(1), case_row(2)]),
        "信访记录": (CONTACTS, [contact_row(1, 信访时间="不详"), contact_row(2, 信访时间="不详")]),
    })  # fmt: skip
    out = tmp_path / "out"
    with pytest.raises(SourceError, match=r"contacts: none of the 2 rows read could be used"):
        import_source(path, out, Mode.LENIENT, tmp_path / "quarantine")
    assert not (out / "cases.parquet").exists()  # nothing written
    assert pl.read_csv(tmp_path / "quarantine" / "contacts.csv").height == 2  # the reasons
