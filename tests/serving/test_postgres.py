"""The store on PostgreSQL (by URL): migrations, the audit chain from several processes,
a risk list stored and read back, a review. ``make test`` starts the server."""

from __future__ import annotations

import datetime as dt
import multiprocessing
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.contract import Dataset
from earlywarn.models.registry import LoadedModels
from earlywarn.resources import sample_dataset
from earlywarn.serving.access import Role, create_key
from earlywarn.serving.app import create_app
from earlywarn.serving.audit import audit_key, verify_chain
from earlywarn.serving.risk_list import build_risk_list
from earlywarn.serving.scorer import Scorer
from earlywarn.serving.store import open_store
from earlywarn.serving.store_open import nightly_store_lock
from earlywarn.settings import Settings
from tests.serving.helpers import append_both_ways

pytestmark = pytest.mark.slow
KEY = b"test-audit-key"


def _pg_settings(settings: Settings, url: str) -> Settings:
    return settings.model_copy(update={"database_url": url})


def _append_many(url: str, count: int) -> None:
    append_both_ways(sessionmaker(create_engine(url)), KEY, count)


def test_processes_appending_at_once_keep_one_chain_on_postgres(
    settings: Settings, pg_url: str
) -> None:
    open_store(_pg_settings(settings, pg_url))
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_append_many, args=(pg_url, 40)) for _ in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
        assert writer.exitcode == 0
    with sessionmaker(create_engine(pg_url))() as session:
        check = verify_chain(session, KEY)
    assert check.ok and check.records == 160, check


def test_list_and_review_on_postgres(
    settings: Settings, pg_url: str, sample: Dataset, champions: LoadedModels
) -> None:
    pg = _pg_settings(settings, pg_url)
    sessions: sessionmaker[Session] = open_store(pg)
    day = dt.date(2025, 10, 31)
    first = build_risk_list(pg, sample, day, sessions, champions)
    again = build_risk_list(pg, sample, day, sessions, champions)
    assert first.changed and not again.changed and first.checksum == again.checksum
    with sessions.begin() as session:
        token = create_key(session, Role.ADMIN).token
    client = TestClient(create_app(Scorer(pg, None), sessions), raise_server_exceptions=False)
    headers = {"X-API-Key": token}
    page = client.get(f"/v1/risk-lists/{day}", params={"band": "high"}, headers=headers).json()
    assert page["total"] > 0
    case_id = page["items"][0]["case_id"]
    answer = client.post(
        f"/v1/risk-lists/{day}/cases/{case_id}/review",
        json={"decision": "acknowledged"},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    reviewed = client.get(f"/v1/risk-lists/{day}", params={"reviewed": True}, headers=headers)
    assert [item["case_id"] for item in reviewed.json()["items"]] == [case_id]
    with sessions() as session:
        assert verify_chain(session, audit_key(pg, session)).ok


def test_the_schema_on_postgres_is_exactly_the_models(settings: Settings, pg_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from earlywarn.serving.store import Base

    open_store(_pg_settings(settings, pg_url))
    with create_engine(pg_url).connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def _open_at_once(url: str, work: str) -> None:
    from earlywarn.settings import load_settings

    open_store(load_settings(work_dir=work, database_url=url))


def test_processes_starting_at_once_on_an_empty_database_migrate_in_turn(
    settings: Settings, pg_url: str, tmp_path: Path
) -> None:
    context = multiprocessing.get_context("spawn")
    starts = [
        context.Process(target=_open_at_once, args=(pg_url, str(tmp_path / f"w{n}")))
        for n in range(3)
    ]
    for start in starts:
        start.start()
    for start in starts:
        start.join(timeout=120)
        assert start.exitcode == 0


def test_long_case_ids_codes_and_audit_lines_are_kept_on_postgres(
    settings: Settings, pg_url: str
) -> None:
    from earlywarn.serving.audit import audit
    from earlywarn.serving.store import AuditRecord, Review, RiskList, RiskListItem

    sessions = open_store(_pg_settings(settings, pg_url))
    case_id = "绍兴市越城区信访局-网上信访-事项编号-2024-" + "C0000000123" * 6  # 90 characters
    failed = "failed: " + "the export could not be read; " * 8  # a night's failure, said
    with sessions.begin() as session:
        made = create_key(session, Role.OFFICE, "330602-越城区-城南街道-" * 3)
        listed = RiskList(list_date=dt.date(2025, 1, 1), as_of=dt.datetime(2025, 1, 2),
                          checksum="-", model_versions="-", rows=1)  # fmt: skip
        session.add(listed)
        session.flush()
        session.add(RiskListItem(
            list_id=listed.id, rank=1, case_id=case_id, county_code="330602" * 8,
            township_code="330602001" * 6, category="other", escalation_probability=0.5,
            collective_probability=0.1, escalation_flag=True, collective_flag=False,
            risk_band="high", reasons="[]",
        ))  # fmt: skip
        session.add(Review(list_date=listed.list_date, case_id=case_id, decision="acknowledged",
                           key_id=made.key.id))  # fmt: skip
        audit(session, KEY, "daily job", "daily.run", f"2025-01-01/{case_id}", 0, failed)
    with sessions() as session:
        assert session.scalars(select(RiskListItem.case_id)).one() == case_id
        assert session.scalars(select(Review.case_id)).one() == case_id
        assert session.scalars(select(AuditRecord.result)).all()[-1] == failed


def test_a_table_locked_on_postgres_is_a_503_not_a_wait_without_end(
    settings: Settings, pg_url: str
) -> None:
    import threading

    from sqlalchemy import text

    pg = settings.model_copy(update={"database_url": pg_url, "database_busy_seconds": 0.5})
    sessions = open_store(pg)
    with sessions.begin() as session:
        token = create_key(session, Role.ADMIN).token
    client = TestClient(create_app(Scorer(pg, None), sessions), raise_server_exceptions=False)
    holder = create_engine(pg_url).connect()
    holder.execute(text("LOCK TABLE audit_log IN ACCESS EXCLUSIVE MODE"))  # maintenance
    # Without a lock timeout the call below would wait until this releases the lock.
    guard = threading.Timer(60, holder.rollback)
    guard.start()
    try:
        held = client.get("/v1/risk-lists/2025-01-01", headers={"X-API-Key": token})
        assert held.status_code == 503 and held.headers["retry-after"] == "5"
    finally:
        guard.cancel()
        holder.rollback()
        holder.close()
    again = client.get("/v1/risk-lists/2025-01-01", headers={"X-API-Key": token})
    assert again.status_code == 404  # no list that day: the store answers again


def test_an_offices_sqlite_store_is_copied_to_postgres_whole(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from earlywarn.cli import app
    from earlywarn.serving.audit import audit
    from earlywarn.serving.store import ApiKey, AuditRecord, Review
    from earlywarn.settings import load_settings

    monkeypatch.setenv("EARLYWARN_WORK_DIR", str(tmp_path))
    runner = CliRunner()
    for county in ("330211", "330212"):  # two keys, each audited
        made = runner.invoke(app, ["keys", "create", "--role", "office", "--county", county])
        assert made.exit_code == 0, made.output
    local = load_settings(work_dir=tmp_path)
    sqlite = open_store(local)
    with sqlite.begin() as session:
        key_id = session.scalars(select(ApiKey.id)).first()
        assert key_id is not None
        session.add(Review(list_date=dt.date(2025, 1, 1), case_id="C1", decision="acknowledged",
                           key_id=key_id))  # fmt: skip
        for n in range(4):
            audit(session, audit_key(local, session), "office", "review", f"2025-01-01/C{n}", 1,
                  "acknowledged")  # fmt: skip
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0  # writes an anchor
    copied = runner.invoke(app, ["store", "copy", "--to", pg_url])
    assert copied.exit_code == 0, copied.output
    assert "audit chain intact" in copied.output and "api_keys: 2" in copied.output
    monkeypatch.setenv("EARLYWARN_DATABASE_URL", pg_url)
    # The chain and its anchors hold in the new store, and new rows follow the copied ids.
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
    more = runner.invoke(app, ["keys", "create", "--role", "analyst"])
    assert more.exit_code == 0, more.output
    pg = open_store(load_settings(work_dir=tmp_path, database_url=pg_url))
    with pg() as session:
        assert session.scalars(select(Review.case_id)).all() == ["C1"]
        assert len(session.scalars(select(ApiKey.id)).all()) == 3
        # Two keys made, four reviews, one key made after the copy.
        assert session.scalars(select(func.count()).select_from(AuditRecord)).one() == 7
    monkeypatch.delenv("EARLYWARN_DATABASE_URL")
    again = runner.invoke(app, ["store", "copy", "--to", pg_url])  # never over a used store
    assert again.exit_code == 1 and "already holds rows" in again.output


def test_a_second_hosts_nightly_run_on_the_same_store_does_nothing(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two schedulers on two hosts, one PostgreSQL store: each work directory's file lock
    sees only its own host, so the second run took the first's record as stale and built
    the same day beside it. The store's lock makes the second do nothing, at once."""
    with nightly_store_lock(pg_url, 5) as first:
        assert first
        with nightly_store_lock(pg_url, 5) as second:
            assert not second
        monkeypatch.setenv("EARLYWARN_WORK_DIR", str(tmp_path / "second-host"))
        monkeypatch.setenv("EARLYWARN_DATABASE_URL", pg_url)
        run = CliRunner().invoke(
            app, ["daily", "--date", "2025-10-31", "--source", str(sample_dataset())]
        )
        assert run.exit_code == 1 and "another daily run, on another host" in run.output
        assert not (tmp_path / "second-host" / "risk-lists").exists()
    with nightly_store_lock(pg_url, 5) as again:  # released with the run that held it
        assert again
