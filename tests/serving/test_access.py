"""Keys are hashed and scoped; the audit log is a chain that shows any edit or deletion."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.serving import access
from earlywarn.serving.access import KeyCache, Role, authenticate, create_key
from earlywarn.serving.audit import (
    GENESIS,
    KEY_FILE,
    _fields,
    audit,
    audit_key,
    verify_chain,
    write_anchor,
)
from earlywarn.serving.store import ApiKey, AuditRecord, open_store
from earlywarn.settings import load_settings

KEY = b"test-audit-key"


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    return open_store(load_settings(work_dir=tmp_path))


def test_keys_are_stored_hashed_and_authenticate(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        new = create_key(session, Role.OFFICE, "330211")
    with sessions() as session:
        stored = session.scalars(select(ApiKey)).one()
        assert new.token not in (stored.key_hash, stored.prefix)
        found = authenticate(session, new.token)
        assert found is not None and found.county_code == "330211" and found.role == "office"
        assert authenticate(session, new.token + "x") is None
        assert authenticate(session, None) is None


def test_only_an_office_key_is_held_to_a_county(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A case system's key made with --county was kept, listed with it, and scored every
    county's cases: the admin believed it held to one."""
    monkeypatch.setenv("EARLYWARN_WORK_DIR", str(tmp_path))
    made = CliRunner().invoke(
        app, ["keys", "create", "--role", "case_system", "--county", "330211"]
    )
    assert made.exit_code == 2 and "only an office key is held to a county" in made.output


def test_revoked_key_is_refused(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        new = create_key(session, Role.ANALYST)
        session.execute(update(ApiKey).values(revoked_at=func.now()))
    with sessions() as session:
        assert authenticate(session, new.token) is None


def test_the_service_holds_a_key_for_seconds_then_sees_it_revoked(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [100.0]
    monkeypatch.setattr(access.time, "monotonic", lambda: now[0])
    held, unheld = KeyCache(5.0), KeyCache(0.0)
    with sessions.begin() as session:
        new = create_key(session, Role.OFFICE, "330211")
    with sessions() as session:
        for cache in (held, unheld):
            key = cache.authenticate(session, new.token)
            assert key is not None and key.county_code == "330211"
        assert held.authenticate(session, "ew_unknown") is None
    with sessions.begin() as session:
        session.execute(update(ApiKey).values(revoked_at=func.now()))
    with sessions() as session:
        assert unheld.authenticate(session, new.token) is None  # 0: read on every call
        copy = held.authenticate(session, new.token)  # within the seconds: still held
        assert copy is not None and copy.role == "office"
        session.commit()  # a commit expires the session's objects, never the held copy
        assert copy.county_code == "330211"
        now[0] += 5.1
        assert held.authenticate(session, new.token) is None


def test_office_key_needs_a_county(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session, pytest.raises(ValueError, match="county"):
        create_key(session, Role.OFFICE)
    for code in ('=HYPERLINK("http://evil.example","330211")', "-1+1", " 330211", "33 02"):
        with sessions.begin() as session, pytest.raises(ValueError, match="not a county code"):
            create_key(session, Role.OFFICE, code)  # the title of its ledger, among others
    with sessions.begin() as session:
        assert create_key(session, Role.OFFICE, "鄞州区").key.county_code == "鄞州区"


def _chain(sessions: sessionmaker[Session], records: int) -> None:
    for i in range(records):
        with sessions.begin() as session:
            audit(session, KEY, "tester", "risk_list.view", f"2025-01-{i + 1:02d}", i, "ok")


def test_intact_chain_verifies(sessions: sessionmaker[Session]) -> None:
    _chain(sessions, 5)
    with sessions() as session:
        check = verify_chain(session, KEY)
    assert check.ok and check.records == 5


def test_an_edited_record_is_detected(sessions: sessionmaker[Session]) -> None:
    _chain(sessions, 5)
    with sessions.begin() as session:
        session.execute(update(AuditRecord).where(AuditRecord.id == 3).values(rows=999))
    with sessions() as session:
        check = verify_chain(session, KEY)
    assert not check.ok and check.first_broken == 3 and "edited" in check.problem


def test_a_deleted_record_is_detected(sessions: sessionmaker[Session]) -> None:
    _chain(sessions, 5)
    with sessions.begin() as session:
        session.execute(delete(AuditRecord).where(AuditRecord.id == 2))
    with sessions() as session:
        check = verify_chain(session, KEY)
    assert not check.ok and check.first_broken == 3 and "deleted" in check.problem


def test_a_deleted_tail_is_caught_by_the_anchor(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    anchors = tmp_path / "anchors.jsonl"
    _chain(sessions, 12)
    with sessions() as session:
        write_anchor(session, anchors, "test")
    with sessions.begin() as session:  # the last ten records go
        session.execute(delete(AuditRecord).where(AuditRecord.id > 2))
    with sessions() as session:
        assert verify_chain(session, KEY).ok  # without the anchor, nothing shows
        check = verify_chain(session, KEY, anchors)
    assert not check.ok and "anchor" in check.problem
    with sessions.begin() as session:  # only the very last one
        session.execute(delete(AuditRecord))
    _chain(sessions, 3)
    with sessions() as session:
        write_anchor(session, anchors, "again")


def test_a_lost_key_is_said_and_never_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With records in the log, a missing key file is an error: a new key would make
    every later check report tampering, and the records written with it would never
    verify against the old ones."""
    monkeypatch.delenv("EARLYWARN_AUDIT_KEY", raising=False)
    monkeypatch.setenv("EARLYWARN_WORK_DIR", str(tmp_path))
    runner = CliRunner()
    key = runner.invoke(app, ["keys", "create", "--role", "analyst"]).stdout.strip()
    revoked = runner.invoke(app, ["keys", "revoke", key[:10] + "…"])  # as `keys list` shows it
    assert revoked.exit_code == 0, revoked.output  # and audited: the chain has begun
    assert "OK" in runner.invoke(app, ["audit", "verify"]).output
    (tmp_path / KEY_FILE).rename(tmp_path / "audit.key.bak")
    for command in (["audit", "verify"], ["daily", "--source", str(tmp_path)]):
        result = runner.invoke(app, command)
        assert result.exit_code in (1, 2) and "audit key is missing" in result.output
        assert "BROKEN" not in result.output and "Traceback" not in result.output
    assert not (tmp_path / KEY_FILE).exists()
    (tmp_path / "audit.key.bak").rename(tmp_path / KEY_FILE)
    assert "OK" in runner.invoke(app, ["audit", "verify"]).output


def test_an_anchor_holds_while_another_process_appends(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """A worker anchors the chain (at start-up, daily) while another serves calls: a record
    appended between the anchor's reads must not make the anchor count it beside an
    older head (seen in bench_api: two workers, a later verify said BROKEN)."""
    from sqlalchemy import event

    anchors = tmp_path / "anchors.jsonl"
    _chain(sessions, 3)
    engine = sessions.kw["bind"]
    appended: list[bool] = []

    def another_worker_appends(_c: object, _cur: object, statement: str, *_: object) -> None:
        if "count(" in statement.lower() and not appended:
            appended.append(True)  # once: the append's own statements come through here
            _chain(sessions, 1)

    event.listen(engine, "before_cursor_execute", another_worker_appends)
    try:
        with sessions() as session:
            write_anchor(session, anchors, "start-up")
    finally:
        event.remove(engine, "before_cursor_execute", another_worker_appends)
    assert appended
    with sessions() as session:
        check = verify_chain(session, KEY, anchors)
    assert check.ok and check.records == 4, check


def test_a_rewrite_without_the_key_is_caught(sessions: sessionmaker[Session]) -> None:
    """Delete a record and recompute every later hash with plain SHA-256: no key, no
    valid chain."""
    import hashlib
    import json

    _chain(sessions, 5)
    with sessions.begin() as session:
        session.execute(delete(AuditRecord).where(AuditRecord.id == 2))
        previous = GENESIS
        for record in session.scalars(select(AuditRecord).order_by(AuditRecord.id)):
            payload = json.dumps(_fields(record), sort_keys=True, ensure_ascii=False, default=str)
            record.previous_hash = previous
            record.record_hash = hashlib.sha256((previous + payload).encode()).hexdigest()
            previous = record.record_hash
    with sessions() as session:
        check = verify_chain(session, KEY)
    assert not check.ok and check.first_broken == 1 and "rewritten" in check.problem
    with sessions() as session:
        assert not verify_chain(session, b"another key").ok


def test_api_action_models_follow_the_contract() -> None:
    from typing import get_args

    from earlywarn.contract.spec import ACTION_OUTCOMES
    from earlywarn.serving import schemas

    models = [
        schemas.PlainAction,
        schemas.MediationAction,
        schemas.AnswerAction,
        schemas.RatingAction,
        schemas.DecisionAction,
    ]
    allowed: dict[str, set[str]] = {}
    for model in models:
        types = get_args(model.model_fields["action_type"].annotation)
        outcomes = {
            a
            for a in get_args(model.model_fields["outcome"].annotation)
            for a in get_args(a) or (a,)
        }
        for action_type in types:
            allowed[action_type] = {o for o in outcomes if isinstance(o, str)}
    assert allowed == {t: set(o) for t, o in ACTION_OUTCOMES.items()}


def test_concurrent_appends_keep_one_chain(tmp_path: Path) -> None:
    """Many threads auditing the same call at once (the API's situation) leave one chain."""
    import threading

    from fastapi.testclient import TestClient

    from earlywarn.serving.app import create_app
    from earlywarn.serving.scorer import Scorer

    settings = load_settings(work_dir=tmp_path)
    sessions = open_store(settings)
    with sessions.begin() as session:
        token = create_key(session, Role.ANALYST).token
    client = TestClient(create_app(Scorer(settings, None), sessions))

    def hit() -> None:
        for _ in range(10):
            client.get("/v1/risk-lists/2025-01-01", headers={"X-API-Key": token})

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with sessions() as session:
        check = verify_chain(session, audit_key(settings, session))
    # Every call is audited, the ones that find no list too: 80 records, one chain.
    assert check.ok and check.records == 80, check


def _migration(name: str) -> ModuleType:
    """A migration module by its file name (they begin with a digit: no import)."""
    path = Path(__file__).parents[2] / "src/earlywarn/serving/migrations/versions" / name
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


WIDENED: dict[str, dict[str, int]] = _migration("0010_text_without_a_length_limit.py").WIDENED


def test_migrations_build_exactly_the_models(tmp_path: Path) -> None:
    """Alembic's head and the SQLAlchemy models agree: no change left unmigrated."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from earlywarn.serving.store import Base, database_url

    settings = load_settings(work_dir=tmp_path)
    open_store(settings)
    with create_engine(database_url(settings)).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    # SQLite keeps no declared length: migration 0010 widens the columns it names to TEXT
    # on PostgreSQL only (tests/serving/test_postgres.py compares there in full).
    widened = {(table, column) for table, columns in WIDENED.items() for column in columns}
    left = [
        change
        for change in differences
        if not (
            isinstance(change, list)
            and change[0][0] == "modify_type"
            and (change[0][2], change[0][3]) in widened
        )
    ]
    assert left == []


def test_web_sessions_expire_and_are_forgotten(sessions: sessionmaker[Session]) -> None:
    import datetime as dt

    from earlywarn.serving.store import WebSession
    from earlywarn.serving.web.sessions import sign_in, signed_in

    with sessions.begin() as session:
        token = create_key(session, Role.OFFICE, "330211").token
        cookie, _ = sign_in(session, token)
        assert signed_in(session, cookie) is not None
        for stored in session.scalars(select(WebSession)):
            stored.expires_at = dt.datetime(2000, 1, 1)
        session.flush()
        assert signed_in(session, cookie) is None  # expired
        sign_in(session, token)  # the next sign-in forgets the expired ones
        assert len(session.scalars(select(WebSession)).all()) == 1
