"""The service's way into the audit chain: a record per call, committed before the answer.

Two ways in. ``record`` appends inside the caller's transaction and commits it with the
call's own work (a review and its record stand or fall together). ``answered`` (from a
thread) and ``answered_async`` (from the event loop) are for calls whose only write is
their record (a score, a page of a list): the record joins a group commit, many calls'
records appended in one transaction (``audit.append_many``), and the call returns only
once that transaction is committed, so an answer never goes out with its record
unwritten, and a crash loses no record of a call that was answered.

One writer thread per trail, started on first use, writes whatever has queued while it
wrote the group before: under load the groups grow by themselves; alone, a call's
record is written at once. The event loop never waits on the database: an async call
awaits a future that the writer settles.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.serving.audit import append_many, audit
from earlywarn.serving.store import ApiKey, utc_now

logger = logging.getLogger(__name__)
Finished = Callable[[BaseException | None], None]  # told the group's outcome, None: committed


@dataclass
class _Waiting:
    entry: dict[str, Any]
    finished: Finished


def _actor(key: ApiKey | None) -> str:
    return f"key:{key.prefix}" if key is not None else "anonymous"


def _entry(key: ApiKey | None, action: str, target: str, rows: int, result: str) -> dict[str, Any]:
    return {"at": utc_now(), "key_id": key.id if key else None, "actor": _actor(key),
            "action": action, "target": target, "rows": rows, "result": result}  # fmt: skip


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():  # the call was cancelled (its client went away): nothing to tell
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


class AuditTrail:
    """One record per call; ``key`` None for a caller who showed no valid key."""

    def __init__(
        self, key: bytes | Callable[[], bytes], sessions: sessionmaker[Session] | None = None
    ) -> None:
        # The key, or how to find it once the store can be read (a service may start
        # while its store is down: its calls answer 503 until the store is back).
        self._key_source = key
        # The database keeps the chain whole across processes (see ``audit.audit``);
        # within one process, taking turns here is cheaper than SQLite's busy-wait sleeps.
        # Re-entrant: a call that writes more than its record takes the turn for all of
        # it (``writing``), and its record takes it again inside.
        self._turn = threading.RLock()
        self._changed = threading.Condition()
        self._queue: list[_Waiting] = []
        self._writer: threading.Thread | None = None
        # Where grouped records are written (None: never grouped), on a connection of
        # their own: a session's bookkeeping was most of a small group's cost.
        self._engine: Engine | None = sessions.kw["bind"] if sessions is not None else None
        self.groups = 0  # groups written, and the records in them (for tests and metrics)
        self.grouped = 0

    @property
    def _key(self) -> bytes:
        if callable(self._key_source):
            self._key_source = self._key_source()
        return self._key_source

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the turn for a call that writes before its record (a review): its write and
        its record commit together, one call after the other. A review's insert took the
        store's write lock and then waited for the turn another call held while waiting for
        that lock: both stalled for the store's busy wait and one failed 503; and two
        identical reviews sent at once both passed the check for a repeat."""
        with self._turn:
            yield

    def record(
        self, db: Session, key: ApiKey | None, action: str, target: str, rows: int, result: str
    ) -> None:
        """Append in the caller's transaction and commit it with the call's work."""
        with self._turn:
            audit(db, self._key, _actor(key), action, target, rows, result, key.id if key else None)
            db.commit()

    def answered(
        self, db: Session, key: ApiKey | None, action: str, target: str, rows: int, result: str
    ) -> None:
        """Append in the next group commit and return once it is committed; for calls that
        write nothing else (the caller's open read transaction is ended first)."""
        if self._engine is None:
            self.record(db, key, action, target, rows, result)
            return
        # The record's values are read before the caller's read transaction ends: a key
        # read in that session is expired by the rollback, and reading it afterwards would
        # take a connection again and hold it while the call waits for its group, until
        # the pool is empty and the group's writer waits for a connection forever.
        entry = _entry(key, action, target, rows, result)
        db.rollback()  # only reads were made: nothing of the call is lost
        done = threading.Event()
        outcome: list[BaseException | None] = []

        def finished(error: BaseException | None) -> None:
            outcome.append(error)
            done.set()

        self._enqueue(_Waiting(entry, finished))
        done.wait()
        if outcome[0] is not None:
            raise outcome[0]

    async def answered_async(
        self, key: ApiKey | None, action: str, target: str, rows: int, result: str
    ) -> None:
        """``answered`` for a call on the event loop, which holds no session: the loop
        goes on serving while the group is written."""
        if self._engine is None:
            raise RuntimeError("an audit trail without sessions cannot group records")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()

        def finished(error: BaseException | None) -> None:
            with contextlib.suppress(RuntimeError):  # a closed loop: the service is stopping
                loop.call_soon_threadsafe(_settle, future, error)

        self._enqueue(_Waiting(_entry(key, action, target, rows, result), finished))
        await future

    def _enqueue(self, waiting: _Waiting) -> None:
        with self._changed:
            self._queue.append(waiting)
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write_groups, daemon=True, name="audit-writer"
                )
                self._writer.start()
            self._changed.notify()

    def _write_groups(self) -> None:
        while True:
            with self._changed:
                while not self._queue:
                    self._changed.wait()
                group, self._queue = self._queue, []
            error = self._write(group)
            for waiting in group:
                try:
                    waiting.finished(error)
                except Exception:  # one caller's trouble must not stop the writer for all
                    logger.exception("a call could not be told its audit record's fate")

    def _write(self, group: list[_Waiting]) -> BaseException | None:
        try:
            with self._turn, self._engine.begin() as connection:  # type: ignore[union-attr]
                append_many(connection, self._key, [w.entry for w in group])
        except BaseException as failure:  # every caller of the group sees the failure
            return failure
        finally:
            with self._changed:
                self.groups += 1
                self.grouped += len(group)
        return None
