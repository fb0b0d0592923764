"""The daily list job: idempotent, atomic, exported; on the sample with the small test models."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.contract import Dataset
from earlywarn.models.capacity import Capacity
from earlywarn.models.registry import LoadedModels
from earlywarn.serving import list_store, risk_list
from earlywarn.serving.list_files import list_folder
from earlywarn.serving.risk_list import build_risk_list, verify_list
from earlywarn.serving.store import RiskList, RiskListItem, open_store
from earlywarn.settings import Settings, load_settings

DAY = dt.date(2025, 10, 31)


def _items(sessions: sessionmaker[Session]) -> int:
    """Rows stored for DAY (other tests store other days in the same store)."""
    with sessions() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(RiskListItem)
                .join(RiskList, RiskListItem.list_id == RiskList.id)
                .where(RiskList.list_date == DAY)
            )
            or 0
        )


def test_same_day_same_models_same_list_no_duplicates(
    settings: Settings, sessions: sessionmaker[Session], sample: Dataset, champions: LoadedModels
) -> None:
    first = build_risk_list(settings, sample, DAY, sessions, champions)
    second = build_risk_list(settings, sample, DAY, sessions, champions)
    assert not second.changed  # the first call may have stored it, or found it stored
    assert first.checksum == second.checksum
    assert _items(sessions) == first.rows
    columns = (RiskListItem.escalation_probability, RiskListItem.collective_probability)
    with sessions() as session:
        bounds = session.execute(
            select(*(func.min(c) for c in columns), *(func.max(c) for c in columns))
        ).one()
    assert min(bounds[:2]) > 0 and max(bounds[2:]) < 1  # no stored probability is 0 or 1
    with sessions() as session:
        lists = select(func.count()).select_from(RiskList).where(RiskList.list_date == DAY)
        assert session.scalar(lists) == 1
    assert first.as_of == dt.datetime(2025, 11, 1)


def test_exports_open(
    settings: Settings, sessions: sessionmaker[Session], sample: Dataset, champions: LoadedModels
) -> None:
    result = build_risk_list(settings, sample, DAY, sessions, champions)
    book = openpyxl.load_workbook(io.BytesIO(result.files["xlsx"].read_bytes()))
    sheet = book.worksheets[0]
    assert str(sheet["A1"].value).startswith("全部县区 每日风险清单台账 2025年10月31日")
    assert "数据截至 2025年10月31日 24:00" in str(sheet["A2"].value)
    header = [cell.value for cell in sheet[3]]
    assert header[:7] == ["排名", "今日", "事项编号", "县区", "乡镇", "问题类别", "风险等级"]
    assert header[-2:] == ["包案领导", "处置结果"]
    at = {name: header.index(name) for name in header}
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert 0 < len(rows) < result.rows  # the high and medium bands, not every case
    assert {row[at["风险等级"]] for row in rows} == {"高"}  # the printed ledger: flagged cases
    assert {row[at["今日"]] for row in rows} == {"今日"}  # a day's work, as the page marks it
    assert {row[at["越级访预警"]] for row in rows} <= {"是", "否"}
    assert all(str(row[at["主要原因"]]).startswith("1. ") for row in rows)  # reasons in words
    first = sheet.cell(row=4, column=at["越级访风险"] + 1)
    assert first.number_format == "0.0%" and 0 < float(first.value) < 1
    assert sheet.cell(row=4, column=at["距上次信访天数"] + 1).number_format == "0"
    assert sheet.freeze_panes == "A4"
    assert sheet.auto_filter.ref is not None and sheet.auto_filter.ref.startswith("A3:")
    assert sheet.page_setup.orientation == "landscape"
    fit = sheet.page_setup  # one page wide (1 is the file format's default), any height
    assert fit.fitToWidth in (None, 1) and fit.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.cell(row=4, column=at["主要原因"] + 1).alignment.wrap_text
    lines = str(sheet.cell(row=4, column=at["主要原因"] + 1).value).count("\n") + 1
    assert (sheet.row_dimensions[4].height or 0) >= 16 * lines  # printed whole, not one line
    assert book.sheetnames[1] == "说明"
    content = result.files["csv"].read_bytes()
    assert content.startswith("\ufeff".encode())
    ledger = pl.read_csv(content, infer_schema=False)
    assert ledger.columns[:3] == ["排名", "今日", "事项编号"]
    today = ledger.filter(pl.col("今日") == "今日")["排名"].cast(pl.Int64).to_list()
    assert today == list(range(1, len(rows) + 1))  # the printed rows, and only they
    header_line = result.files["scores"].read_text(encoding="utf-8").splitlines()[0]
    assert header_line.startswith("case_id,as_of,escalation_probability")


def test_a_crash_leaves_the_previous_list_intact(
    settings: Settings,
    sessions: sessionmaker[Session],
    sample: Dataset,
    champions: LoadedModels,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = build_risk_list(settings, sample, DAY, sessions, champions)
    real_checksum = risk_list.checksum_of

    real_staging = risk_list.staged_items

    @contextlib.contextmanager
    def failing_staging(session: Session, rows: pl.DataFrame) -> Iterator[Callable[[int], None]]:
        with real_staging(session, rows.head(rows.height // 2)) as file_under:

            def half_then_full(list_id: int) -> None:
                file_under(list_id)
                raise RuntimeError("disk full")

            yield half_then_full

    # A different checksum forces a rebuild; the insert then fails half-way.
    monkeypatch.setattr(risk_list, "checksum_of", lambda items, versions: "x" * 64)
    monkeypatch.setattr(risk_list, "staged_items", failing_staging)
    with pytest.raises(RuntimeError, match="disk full"):
        build_risk_list(settings, sample, DAY, sessions, champions)
    monkeypatch.setattr(risk_list, "checksum_of", real_checksum)
    with sessions() as session:
        stored = session.scalars(select(RiskList).where(RiskList.list_date == DAY)).one()
        # Nor is anything of the failed list left on the pooled connection: its staging
        # tables failed the next list there.
        driver = session.connection().connection.driver_connection
        assert driver is not None
        assert driver.execute("SELECT name FROM temp.sqlite_master").fetchall() == []
    assert stored.checksum == before.checksum
    assert _items(sessions) == before.rows
    assert build_risk_list(settings, sample, DAY, sessions, champions).checksum == before.checksum


def test_a_rerun_that_stores_another_list_keeps_the_earlier_files(
    tmp_path: Path, sample: Dataset, champions: LoadedModels
) -> None:
    """The list an office printed that morning stays on disk when a rerun replaces it."""
    settings = load_settings(work_dir=tmp_path)
    sessions = open_store(settings)
    first = build_risk_list(settings, sample, DAY, sessions, champions)
    printed = {path.name: path.read_bytes() for path in first.files.values()}
    wider = load_settings(work_dir=tmp_path, capacity_share=0.1)  # the office's capacity grew
    second = build_risk_list(wider, sample, DAY, sessions, champions)
    assert second.changed and second.checksum != first.checksum
    assert second.replaced == list_folder(settings, DAY) / "replaced" / first.checksum[:16]
    for name, content in printed.items():
        assert (second.replaced / name).read_bytes() == content
    kept = json.loads((second.replaced / "manifest.json").read_text(encoding="utf-8"))
    assert kept["checksum"] == first.checksum
    assert verify_list(wider, sessions, DAY) == []  # the day's files are the new list's
    with sessions() as session:  # each list keeps the capacity it was made with
        header = session.scalars(select(RiskList).where(RiskList.list_date == DAY)).one()
        assert header.capacity == Capacity(0.1, wider.capacity_minimum).at(header.rows)
    again = build_risk_list(wider, sample, DAY, sessions, champions)
    assert not again.changed and again.replaced is None  # the same list: nothing moved


def _empty_header(session: Session, rows: int) -> RiskList:
    """A list header for DAY, flushed (its id known), for tests that write rows by hand."""
    header = RiskList(list_date=DAY, as_of=dt.datetime.combine(DAY, dt.time(23, 59)),
                      checksum="c", model_versions="v", rows=rows)  # fmt: skip
    session.add(header)
    session.flush()
    return header


def test_staged_rows_are_filed_as_given_and_the_connection_left_as_it_was(
    tmp_path: Path,
) -> None:
    """Rows with something to read and rows without (staged without their reasons, steps
    and changes) come back from the items table as they were given; the staging tables
    are gone and the pooled connection keeps its page cache size (else every connection
    would keep 64 MB)."""
    rows = pl.DataFrame(
        {"rank": [1, 2, 3], "case_id": ["C1", "C2", "C3"],
         "county_code": ["330211", "330212", "330212"], "township_code": [None, "t", "t"],
         "category": ["land", "other", "other"],
         "escalation_probability": [0.5, 0.1, 0.3], "collective_probability": [0.2, 0.0, 0.1],
         "escalation_flag": [True, False, False], "collective_flag": [False, False, True],
         "risk_band": ["high", "low", "medium"],
         "reasons": ['[{"feature":"contacts_90d"}]', "[]", "[]"],
         "steps": ['[{"key":"dialogue"}]', "[]", "[]"],
         "days_since_last_contact": [3.0, None, 1.5],
         "changes": ['{"new":true}', "{}", '{"new":false}']}
    )  # fmt: skip
    sessions = open_store(load_settings(work_dir=tmp_path))
    with sessions.begin() as session:
        driver = session.connection().connection.driver_connection
        assert driver is not None
        before = driver.execute("PRAGMA cache_size").fetchone()[0]
        header = _empty_header(session, rows=3)
        with list_store.staged_items(session, rows) as file_under:
            assert driver.execute("PRAGMA cache_size").fetchone()[0] == -list_store.INSERT_CACHE_KIB
            file_under(header.id)
        after = driver.execute("PRAGMA cache_size").fetchone()[0]
        left = driver.execute("SELECT count(*) FROM temp.sqlite_master").fetchone()[0]
    assert after == before != -list_store.INSERT_CACHE_KIB and left == 0
    with sessions() as session:
        stored = session.execute(
            select(*(getattr(RiskListItem, c) for c in rows.columns)).order_by(RiskListItem.rank)
        ).all()
    assert [tuple(r) for r in stored] == rows.rows()


def test_staged_rows_not_filed_leave_nothing(tmp_path: Path) -> None:
    """A rerun of an unchanged list stages its rows, then drops them."""
    sessions = open_store(load_settings(work_dir=tmp_path))
    rows = pl.DataFrame({"rank": [1], "case_id": ["C1"], "reasons": ["[]"], "steps": ["[]"],
                         "changes": ["{}"]})  # fmt: skip
    with sessions.begin() as session:
        with list_store.staged_items(session, rows):
            pass
        driver = session.connection().connection.driver_connection
        assert driver is not None
        assert driver.execute("SELECT count(*) FROM temp.sqlite_master").fetchone()[0] == 0
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(RiskListItem)) == 0


def test_an_office_page_reads_one_list_of_its_county_in_rank_order(tmp_path: Path) -> None:
    """An office key's page finds its rows of the day's list through the (list, county,
    rank) index, already in rank order: not through every stored list's rows of the
    county (the old county index, slower with every night of history) and no sort."""
    from earlywarn.serving.access import Role, create_key
    from earlywarn.serving.lists import Filters, item_query

    sessions = open_store(load_settings(work_dir=tmp_path))
    with sessions.begin() as session:
        key = create_key(session, Role.OFFICE, "330211").key
        header = _empty_header(session, rows=0)
        query = item_query(key, header, Filters()).limit(50)
        sql = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        plan = " | ".join(row[-1] for row in session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    assert "ix_risk_list_items_list_county_rank (list_id=? AND county_code=?)" in plan, plan
    assert "TEMP B-TREE FOR ORDER BY" not in plan, plan


def test_a_ledger_title_is_text_whatever_the_county_code() -> None:
    """A county code that reached the store before codes were checked (a key made by an
    earlier version): its ledger's title is text, not a formula a spreadsheet runs."""
    from earlywarn.serving.ledger import LedgerInfo, ledger_xlsx
    from earlywarn.serving.lists import ITEM_SCHEMA

    county = '=HYPERLINK("http://evil.example","330211")'
    info = LedgerInfo(DAY, dt.datetime(2025, 11, 1), "v1", county)
    book = openpyxl.load_workbook(io.BytesIO(ledger_xlsx(pl.DataFrame(schema=ITEM_SCHEMA), info)))
    title = book.worksheets[0]["A1"]
    assert title.data_type == "s" and str(title.value).startswith(county)


def test_the_same_ledger_is_the_same_bytes_whenever_it_is_written() -> None:
    """The workbook's creation time was the moment it was written: every rerun rewrote
    the file and changed the manifest's checksum."""
    import time

    from earlywarn.serving.ledger import LedgerInfo, ledger_xlsx
    from earlywarn.serving.lists import ITEM_SCHEMA

    info = LedgerInfo(DAY, dt.datetime(2025, 11, 1), "v1", "330211")
    first = ledger_xlsx(pl.DataFrame(schema=ITEM_SCHEMA), info)
    time.sleep(1.1)  # the workbook's clock counts seconds
    assert ledger_xlsx(pl.DataFrame(schema=ITEM_SCHEMA), info) == first


def test_a_manifest_that_is_not_one_keeps_nothing_and_stops_nothing(tmp_path: Path) -> None:
    from earlywarn.serving.list_files import keep_replaced

    assert keep_replaced(tmp_path, "a" * 64) is None  # no manifest
    for broken in ("{not json", "[1, 2]", '{"checksum": ""}'):
        (tmp_path / "manifest.json").write_text(broken, encoding="utf-8")
        assert keep_replaced(tmp_path, "a" * 64) is None, broken
    (tmp_path / "scores.csv").write_text("x", encoding="utf-8")
    (tmp_path / "manifest.json").write_text(
        json.dumps({"checksum": "b" * 64, "files": {"scores.csv": "0" * 64}}), encoding="utf-8"
    )  # the file differs from what the manifest says: a later run's, not moved
    kept = keep_replaced(tmp_path, "a" * 64)
    assert kept == tmp_path / "replaced" / ("b" * 16)
    assert (tmp_path / "scores.csv").exists() and (kept / "manifest.json").exists()


def test_an_office_key_for_a_county_no_list_holds_is_questioned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """keys create --county 999999 was taken without a word; the key saw empty lists."""
    from typer.testing import CliRunner

    from earlywarn.cli import app

    monkeypatch.setenv("EARLYWARN_WORK_DIR", str(tmp_path))
    runner = CliRunner()
    create = ["keys", "create", "--role", "office", "--county"]
    before_any_list = runner.invoke(app, [*create, "999999"])
    assert before_any_list.exit_code == 0 and "no stored list" not in before_any_list.output
    rows = pl.DataFrame(
        {"rank": [1], "case_id": ["C1"], "county_code": ["330211"], "township_code": [None],
         "category": ["other"], "escalation_probability": [0.5], "collective_probability": [0.2],
         "escalation_flag": [True], "collective_flag": [False], "risk_band": ["high"],
         "reasons": ["[]"], "steps": ["[]"], "days_since_last_contact": [3.0], "changes": ["{}"]}
    )  # fmt: skip
    with open_store(load_settings(work_dir=tmp_path)).begin() as session:
        header = _empty_header(session, rows=1)
        with list_store.staged_items(session, rows) as file_under:
            file_under(header.id)
    odd = runner.invoke(app, [*create, "999999"])
    assert odd.exit_code == 0 and "no stored list holds a case of county 999999" in odd.output
    known = runner.invoke(app, [*create, "330211"])
    assert known.exit_code == 0 and "no stored list" not in known.output
