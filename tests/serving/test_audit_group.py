"""Group commit of the audit chain: records of many calls in one transaction, each call
answered only once its record is committed, the chain whole, a failure seen by all."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.serving import audit as audit_module
from earlywarn.serving import audit_trail
from earlywarn.serving.access import create_key
from earlywarn.serving.audit import audit, verify_chain
from earlywarn.serving.audit_trail import AuditTrail
from earlywarn.serving.store import AuditRecord, open_store
from earlywarn.settings import load_settings

KEY = b"test-key"


@pytest.fixture()
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    return open_store(load_settings(work_dir=tmp_path))


def _count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(AuditRecord)) or 0


def _answer(trail: AuditTrail, sessions: sessionmaker[Session], n: int, seen: list[int]) -> None:
    with sessions() as db:
        trail.answered(db, None, "score", f"C{n}", 1, "low")
    seen.append(_count(sessions))  # committed before the call returned


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert condition()


def test_waiting_calls_are_written_as_one_group_and_the_chain_stays_whole(
    sessions: sessionmaker[Session],
) -> None:
    trail = AuditTrail(KEY, sessions)
    with sessions() as db:  # records of the synchronous path chain with the grouped ones
        trail.record(db, None, "risk_list.view", "first", 1, "ok")
    seen: list[int] = []
    calls = 12
    threads = [
        threading.Thread(target=_answer, args=(trail, sessions, n, seen)) for n in range(calls)
    ]
    with trail._turn:  # the first group's writer waits here while the others queue
        threads[0].start()
        _wait_for(lambda: trail._writer is not None and not trail._queue)  # taken alone
        for thread in threads[1:]:
            thread.start()
        _wait_for(lambda: len(trail._queue) == calls - 1)
    for thread in threads:
        thread.join(30)
    assert trail.grouped == calls and trail.groups == 2  # the first alone, then the rest
    assert min(seen) >= 2 and _count(sessions) == calls + 1
    with sessions() as session:
        check = verify_chain(session, KEY)
        targets = session.scalars(select(AuditRecord.target).order_by(AuditRecord.id)).all()
    assert check.ok and check.records == calls + 1
    assert targets[0] == "first" and sorted(targets[1:]) == sorted(f"C{n}" for n in range(calls))


def test_a_failed_group_is_an_error_for_every_call_in_it_and_writes_nothing(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    trail = AuditTrail(KEY, sessions)

    def locked(*_: object) -> None:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(audit_trail, "append_many", locked)
    failures: list[BaseException] = []

    def call(n: int) -> None:
        try:
            _answer(trail, sessions, n, [])
        except OperationalError as error:
            failures.append(error)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(failures) == 4 and _count(sessions) == 0
    monkeypatch.undo()  # the next call writes again: nothing is stuck
    _answer(trail, sessions, 99, [])
    assert _count(sessions) == 1


def test_ids_and_phone_numbers_in_a_grouped_target_are_redacted(
    sessions: sessionmaker[Session],
) -> None:
    trail = AuditTrail(KEY, sessions)
    with sessions() as db:
        trail.answered(db, None, "score", "13912345678", 1, "low")
    with sessions() as session:
        stored = session.scalars(select(AuditRecord.target)).one()
        assert "13912345678" not in stored
        assert verify_chain(session, KEY).ok


def test_a_waiting_call_holds_no_connection_even_with_a_key_read_in_its_session(
    tmp_path: Path,
) -> None:
    """A pool of one connection: the call's own session read the key, so after its read
    transaction ends the group's writer must be able to take that connection. Reading
    the expired key after the rollback took it again and starved the writer: under
    load every connection was held by a waiting call and the service stopped answering."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import QueuePool

    from earlywarn.serving.access import authenticate
    from earlywarn.serving.roles import Role

    store = open_store(load_settings(work_dir=tmp_path))
    with store.begin() as session:
        token = create_key(session, Role.CASE_SYSTEM, None, "test").token
    engine = create_engine(
        str(store.kw["bind"].url), poolclass=QueuePool, pool_size=1, max_overflow=0,
        pool_timeout=3,
    )  # fmt: skip
    sessions = sessionmaker(engine)
    trail = AuditTrail(KEY, sessions)
    with sessions() as db:
        key = authenticate(db, token)  # read in the call's own session, as on a cache miss
        assert key is not None
        trail.answered(db, key, "score", "C1", 1, "low")
    assert _count(sessions) == 1


def test_a_group_reads_the_chain_head_under_the_write_lock(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process's record (``audit`` on a connection of its own) arrives while a
    group has read the chain's head and not yet written: it must wait for the group's
    commit, or both would chain from the same head."""
    trail = AuditTrail(KEY, sessions)
    head_read = threading.Event()
    real_hash = audit_module._record_hash

    def slow_hash(*args: Any) -> str:
        if threading.current_thread().name == "audit-writer" and not head_read.is_set():
            head_read.set()
            time.sleep(0.5)  # the other record tries to write meanwhile
        return real_hash(*args)

    monkeypatch.setattr(audit_module, "_record_hash", slow_hash)
    grouped = threading.Thread(target=_answer, args=(trail, sessions, 1, []))
    grouped.start()
    assert head_read.wait(30)
    with sessions.begin() as session:
        audit(session, KEY, "worker", "test", "other", 1, "ok")
    grouped.join(30)
    with sessions() as session:
        check = verify_chain(session, KEY)
    assert check.ok and check.records == 2, check


def test_calls_on_the_event_loop_wait_for_their_group_and_a_cancelled_one_stops_nothing(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    trail = AuditTrail(KEY, sessions)

    async def calls() -> None:
        # A caller that goes away (its client hung up) while its group is written.
        with trail._turn:
            gone = asyncio.ensure_future(trail.answered_async(None, "score", "gone", 1, "low"))
            await asyncio.sleep(0.05)
            gone.cancel()
        await asyncio.gather(
            *(trail.answered_async(None, "score", f"C{n}", 1, "low") for n in range(5))
        )
        assert _count(sessions) == 6  # committed before the calls returned, the gone one too

        def locked(*_: object) -> None:
            raise OperationalError("INSERT", {}, Exception("database is locked"))

        monkeypatch.setattr(audit_trail, "append_many", locked)
        with pytest.raises(OperationalError):
            await trail.answered_async(None, "score", "C-locked", 1, "low")

    asyncio.run(calls())
    with sessions() as session:
        assert verify_chain(session, KEY).ok
