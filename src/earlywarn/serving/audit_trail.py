"""The service's way into the audit chain: a record per call, committed before the answer.

Two ways in. ``record`` appends inside the caller's transaction and commits it with the
call's own work (a review and its record stand or fall together). ``answered`` is for
calls whose only write is their record (a score, a page of a list): the record joins a
group commit, many calls' records appended in one transaction (``audit.append_many``),
and the call returns only once that transaction is committed, so an answer never goes
out with its record unwritten, and a crash loses no record of a call that was answered.

The group forms without a thread of its own: the first caller that finds no write in
progress writes everything queued so far; the others wait for it, and whoever is still
queued when it ends writes the next group. Under load the groups grow by themselves;
alone, a call writes its own record at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from earlywarn.serving.audit import append_many, audit
from earlywarn.serving.store import ApiKey, utc_now


@dataclass
class _Waiting:
    entry: dict[str, Any]
    done: bool = False
    error: BaseException | None = field(default=None)


def _actor(key: ApiKey | None) -> str:
    return f"key:{key.prefix}" if key is not None else "anonymous"


class AuditTrail:
    """One record per call; ``key`` None for a caller who showed no valid key."""

    def __init__(self, key: bytes, sessions: sessionmaker[Session] | None = None) -> None:
        self._key = key
        self._sessions = sessions  # where grouped records are written (None: never grouped)
        # The database keeps the chain whole across processes (see ``audit.audit``);
        # within one process, taking turns here is cheaper than SQLite's busy-wait sleeps.
        self._turn = threading.Lock()
        self._changed = threading.Condition()
        self._queue: list[_Waiting] = []
        self._writing = False
        self.groups = 0  # groups written, and the records in them (for tests and metrics)
        self.grouped = 0

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
        if self._sessions is None:
            self.record(db, key, action, target, rows, result)
            return
        # The record's values are read before the caller's read transaction ends: a key
        # read in that session is expired by the rollback, and reading it afterwards would
        # take a connection again and hold it while the call waits for its group, until
        # the pool is empty and the group's writer waits for a connection forever.
        waiting = _Waiting(
            {"at": utc_now(), "key_id": key.id if key else None, "actor": _actor(key),
             "action": action, "target": target, "rows": rows, "result": result}
        )  # fmt: skip
        db.rollback()  # only reads were made: nothing of the call is lost
        with self._changed:
            self._queue.append(waiting)
            while not waiting.done and self._writing:
                self._changed.wait()
            if not waiting.done:  # this call writes the group, its own record included
                self._writing = True
                group, self._queue = self._queue, []
        if not waiting.done:
            self._write(group)
        if waiting.error is not None:
            raise waiting.error

    def _write(self, group: list[_Waiting]) -> None:
        error: BaseException | None = None
        try:
            with self._turn, self._sessions.begin() as session:  # type: ignore[union-attr]
                append_many(session, self._key, [w.entry for w in group])
        except BaseException as failure:  # every caller of the group sees the failure
            error = failure
        with self._changed:
            for waiting in group:
                waiting.done, waiting.error = True, error
            self._writing = False
            self.groups += 1
            self.grouped += len(group)
            self._changed.notify_all()
