"""Opening the store as an office's IT department runs it: one line for a store that
cannot be opened, a PostgreSQL lock waited for as long as SQLite's, one migration at a
time, and which errors mean the store (503) rather than our own bug (500).

A store URL that names nothing listening, a database or role that does not exist, a
schema made by a newer version or holding another application's tables, a user
without the right to create tables: each printed a 100-line traceback in English.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from sqlalchemy import create_engine, make_url, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from earlywarn.ingest.sources import shown_source

# PostgreSQL's codes for a store that refuses rather than fails: no right to a table.
_REFUSING = {"42501"}  # insufficient_privilege
# Any numbers, the same in every process: the keys of the locks migrations and the
# nightly run take.
_MIGRATION_LOCK = 7_301_202_612
_NIGHTLY_LOCK = 7_301_202_613


class StoreError(SQLAlchemyError):
    """The store could not be opened: the message says why and what to do."""


# (words in the driver's or Alembic's message, what to do in both languages)
_HINTS = (
    ("Can't locate revision", "its schema was made by a newer earlywarn: run that version, "
     "or give this one another database (数据库结构由较新版本创建)"),
    ("already exists", "the database already holds tables of these names: give earlywarn "
     "an empty database, or a schema of its own (…?options=-csearch_path%3Dearlywarn) "
     "(数据库中已有同名表，请使用空库或单独的 schema)"),
    ("permission denied", "the user may not create or change tables there: run the first "
     "start once as the schema's owner, or grant CREATE (数据库用户无建表或写入权限)"),
    ("password authentication", "the user or password is wrong (用户名或密码错误)"),
    ("does not exist", "the database or user named in the URL does not exist (数据库或用户"
     "不存在)"),
    ("Connection refused", "nothing answers at that address: is the server running, and "
     "the host and port right? (无法连接数据库服务器)"),
    ("postgres", "write the URL as postgresql+psycopg://user@host/db (URL 写法有误)"),
)  # fmt: skip


def setup_failure(url: str, error: Exception) -> StoreError:
    """The error of a store that could not be opened or migrated, as one line."""
    cause = getattr(error, "orig", None) or error
    said = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    hint = next((words for found, words in _HINTS if found in str(cause)), None)
    return StoreError(
        f"the store {shown_source(url)} could not be opened (无法打开数据库): {said}"
        + (f"; {hint}" if hint else "")
    )


def connect_arguments(url: str, busy_seconds: float) -> dict[str, Any]:
    """PostgreSQL waits for a lock as long as SQLite waits for a busy file, then fails
    (answered 503): without a limit, a table locked by maintenance held every request
    and the nightly job for as long as it lasted. Options in the URL are kept."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return {}
    given = parsed.query.get("options", "")
    given = " ".join(given) if isinstance(given, tuple) else given
    return {"options": f"{given} -c lock_timeout={int(busy_seconds * 1000)}".strip()}


@contextmanager
def migration_connection(url: str, busy_seconds: float) -> Iterator[Connection]:
    """A connection for Alembic; on PostgreSQL holding a lock that makes processes
    starting at once migrate one after the other (the second found the version table
    being created and failed)."""
    engine = create_engine(
        url, poolclass=pool.NullPool, connect_args=connect_arguments(url, busy_seconds)
    )
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
                connection.commit()
            yield connection
    finally:
        engine.dispose()


@contextmanager
def nightly_store_lock(url: str, busy_seconds: float) -> Iterator[bool]:
    """On PostgreSQL, the store's lock for the nightly run, held while the run lasts:
    yields False at once if another process holds it (a scheduler on a second host
    with a work directory of its own, whose file lock this one cannot see). A process
    that dies drops its connection and the lock with it. SQLite's store lives beside one
    work directory, whose file lock is enough: True, nothing taken."""
    if make_url(url).get_backend_name() != "postgresql":
        yield True
        return
    engine = create_engine(
        url, poolclass=pool.NullPool, connect_args=connect_arguments(url, busy_seconds)
    )
    try:
        with engine.connect() as connection:
            taken = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": _NIGHTLY_LOCK}
            ).scalar_one()
            connection.commit()
            try:
                yield bool(taken)
            finally:
                if taken:
                    with suppress(SQLAlchemyError):  # a connection lost took the lock with it
                        connection.execute(
                            text("SELECT pg_advisory_unlock(:key)"), {"key": _NIGHTLY_LOCK}
                        )
                        connection.commit()
    finally:
        engine.dispose()


def is_store_fault(error: BaseException) -> bool:
    """The store is busy, gone, read-only or refuses this user: answered 503 with a
    retry, not as our own bug."""
    if isinstance(error, OperationalError):
        return True
    orig = getattr(error, "orig", None)
    return isinstance(error, DBAPIError) and getattr(orig, "sqlstate", None) in _REFUSING
