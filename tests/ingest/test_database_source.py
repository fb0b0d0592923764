"""A case system's database read as the source: a record deleted there goes here too,
one it holds but cannot use tonight stays; the tables read in a stable order; failures
named by table or query; passwords never shown."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from earlywarn.contract import Mode, load_dataset
from earlywarn.ingest.database_source import as_text
from earlywarn.ingest.mapping_file import read_mapping
from earlywarn.ingest.run import SourceError, import_source
from earlywarn.ingest.sources import shown_source
from tests.ingest.test_import import DATABASE_MAPPING, _case_system_database, contract_dataset

__all__ = ["contract_dataset"]  # the fixture, shared with test_import


def _database(contract_dataset: Path, tmp_path: Path) -> tuple[str, Path]:
    database = tmp_path / "cases.db"
    _case_system_database(f"sqlite:///{database}", contract_dataset)
    return f"sqlite:///{database}", database


def _import(url: str, out: Path, mapping_text: str, tmp_path: Path) -> object:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(mapping_text, encoding="utf-8")
    return import_source(url, out, Mode.LENIENT, tmp_path / "quarantine", read_mapping(mapping))


def test_a_case_deleted_in_the_case_system_leaves_the_dataset(
    contract_dataset: Path, tmp_path: Path
) -> None:
    url, database = _database(contract_dataset, tmp_path)
    out = tmp_path / "imported"
    _import(url, out, DATABASE_MAPPING, tmp_path)
    gone, broken = load_dataset(out).cases["case_id"].to_list()[:2]
    with sqlite3.connect(database) as connection:  # withdrawn, and one row now unusable
        for table in ("xf_case", "xf_visit", "xf_action"):
            connection.execute(f"DELETE FROM {table} WHERE 信访件编号 = ?", (gone,))
        connection.execute("UPDATE xf_case SET 登记时间 = '不详' WHERE 信访件编号 = ?", (broken,))
    result = _import(url, out, DATABASE_MAPPING, tmp_path)
    cases = load_dataset(out).cases["case_id"].to_list()
    assert gone not in cases  # deleted there: gone here, its contacts with it
    assert broken in cases  # held there but not usable tonight: kept as it was
    assert result.merged["cases"].removed == 1  # type: ignore[attr-defined]
    assert gone not in load_dataset(out).contacts["case_id"].to_list()
    # Queries of a window of time hold not every record: said in the mapping file.
    windowed = tmp_path / "windowed"
    _import(url, windowed, DATABASE_MAPPING, tmp_path)
    first = load_dataset(windowed).cases["case_id"].to_list()[-1]
    with sqlite3.connect(database) as connection:
        connection.execute("DELETE FROM xf_case WHERE 信访件编号 = ?", (first,))
        connection.execute("DELETE FROM xf_visit WHERE 信访件编号 = ?", (first,))
    _import(url, windowed, DATABASE_MAPPING + "database_complete: false\n", tmp_path)
    assert first in load_dataset(windowed).cases["case_id"].to_list()


def test_a_failed_query_is_named_and_a_password_is_never_shown(
    contract_dataset: Path, tmp_path: Path
) -> None:
    url, _ = _database(contract_dataset, tmp_path)
    broken = DATABASE_MAPPING.replace('"SELECT * FROM xf_visit"', '"SELECT * FROM xf_visit WHERE"')
    with pytest.raises(SourceError, match=r"the query of contacts: .*\(读取数据库失败\)"):
        _import(url, tmp_path / "out", broken, tmp_path)
    hidden = shown_source(
        "postgresql+psycopg://reader@db/cases?password=QpSecret99&sslmode=require"
    )
    assert "QpSecret99" not in hidden and "sslmode=require" in hidden


def test_a_tables_rows_come_in_the_same_order_whatever_the_server_keeps(
    contract_dataset: Path, tmp_path: Path
) -> None:
    url, database = _database(contract_dataset, tmp_path)
    first = _import(url, tmp_path / "a", DATABASE_MAPPING, tmp_path)
    with sqlite3.connect(database) as connection:  # an edit moves a row to the table's end
        row = connection.execute("SELECT rowid, * FROM xf_case LIMIT 1").fetchone()
        connection.execute("DELETE FROM xf_case WHERE rowid = ?", (row[0],))
        marks = ", ".join("?" for _ in row[1:])
        connection.execute(f"INSERT INTO xf_case VALUES ({marks})", row[1:])
    second = _import(url, tmp_path / "b", DATABASE_MAPPING, tmp_path)
    for name in ("cases.parquet", "contacts.parquet"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert first.sources == second.sources  # type: ignore[attr-defined]


def test_a_numeric_code_with_a_scale_is_read_whole() -> None:
    codes = pl.Series([Decimal("330211.00"), None, Decimal("12.00")])
    assert as_text(codes).to_list() == ["330211", None, "12"]
    assert as_text(pl.Series([Decimal("2.50")])).to_list() == ["2.50"]


@pytest.mark.slow
def test_tables_named_as_the_vendor_writes_them_are_found_on_postgres(
    contract_dataset: Path, tmp_path: Path, pg_url: str
) -> None:
    """PostgreSQL keeps unquoted names in lower case: ``XF_VISIT`` and ``XF.XF_ACTION``
    as a vendor's documentation writes them were "relation does not exist"."""
    from sqlalchemy import create_engine, text

    url = pg_url.replace("postgresql://", "postgresql+psycopg://")
    _case_system_database(url, contract_dataset)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE SCHEMA xf"))
        connection.execute(text("ALTER TABLE xf_action SET SCHEMA xf"))
    engine.dispose()
    mapping = """
database:
  cases: {table: XF_CASE}
  contacts: {table: Xf_Visit}
  actions: {table: XF.XF_ACTION}
"""
    result = _import(url, tmp_path / "out", mapping, tmp_path)
    assert {table for _, table, _, _ in result.sources} == {"cases", "contacts", "actions"}  # type: ignore[attr-defined]
    assert load_dataset(tmp_path / "out").actions is not None
