"""The store: risk lists, reviews, API keys (hashed), web sessions and the audit log.

SQLAlchemy 2 over SQLite in the work directory by default, PostgreSQL by URL;
the schema is created and changed only by Alembic migrations
(``serving/migrations``), run by ``open_store``.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from earlywarn.serving.store_open import (
    StoreError,
    connect_arguments,
    migration_connection,
    setup_failure,
)
from earlywarn.settings import Settings

__all__ = ["StoreError"]  # raised by open_store: callers catch it from here

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class Base(DeclarativeBase):
    pass


def utc_now() -> dt.datetime:
    """Stored moments are naive UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class ApiKey(Base):
    """A key is shown once at creation; only its SHA-256 is kept."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    county_code: Mapped[str | None] = mapped_column(Text, nullable=True)
    label: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class RiskList(Base):
    """One day's list: as of the end of that day, with the models that made it."""

    __tablename__ = "risk_lists"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_date: Mapped[dt.date] = mapped_column(Date, unique=True)
    as_of: Mapped[dt.datetime] = mapped_column(DateTime)
    checksum: Mapped[str] = mapped_column(String(64))
    model_versions: Mapped[str] = mapped_column(String(200))
    rows: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    # The office's capacity the list was made with (its first rows by rank are a day's
    # work); None for a list stored before migration 0009: the setting is read instead.
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)


class RiskListItem(Base):
    __tablename__ = "risk_list_items"
    __table_args__ = (
        UniqueConstraint("list_id", "case_id"),
        # A county's rows of one list in rank order: what an office key's page reads, in
        # the same time whatever the history holds (migration 0008).
        Index("ix_risk_list_items_list_county_rank", "list_id", "county_code", "rank"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Looked up through the (list_id, case_id) key, which begins with it (migration 0007).
    list_id: Mapped[int] = mapped_column(ForeignKey("risk_lists.id", ondelete="CASCADE"))
    rank: Mapped[int] = mapped_column(Integer)
    # No length: the contract sets none to a case id or an office's code (migration 0010).
    case_id: Mapped[str] = mapped_column(Text)
    county_code: Mapped[str] = mapped_column(Text)
    township_code: Mapped[str | None] = mapped_column(Text, nullable=True)
    category: Mapped[str] = mapped_column(String(32))
    escalation_probability: Mapped[float] = mapped_column(Float)
    collective_probability: Mapped[float] = mapped_column(Float)
    escalation_flag: Mapped[bool] = mapped_column(Boolean)
    collective_flag: Mapped[bool] = mapped_column(Boolean)
    risk_band: Mapped[str] = mapped_column(String(8))
    reasons: Mapped[str] = mapped_column(Text)  # JSON: feature, value, contribution
    steps: Mapped[str] = mapped_column(Text, default="[]")  # JSON: step keys and units
    days_since_last_contact: Mapped[float | None] = mapped_column(Float, nullable=True)
    changes: Mapped[str] = mapped_column(Text, default="{}")  # JSON: since the last list


# A list row's own columns, in the order files and checksums write them.
ITEM_COLUMNS = [
    "rank", "case_id", "county_code", "township_code", "category", "escalation_probability",
    "collective_probability", "escalation_flag", "collective_flag", "risk_band", "reasons",
    "steps", "days_since_last_contact", "changes",
]  # fmt: skip


class MonitorCheck(Base):
    """One monitoring check of a day (serving/monitor): rerunning a day replaces its rows."""

    __tablename__ = "monitor_checks"
    __table_args__ = (UniqueConstraint("day", "check", "subject"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    check: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(128))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(8))
    detail: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    model_versions: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)


class DailyRun(Base):
    """One run of ``earlywarn daily``: when, for which days, how it ended, what it did."""

    __tablename__ = "daily_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)  # the latest day it was asked for
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))  # running, ok, failed
    message: Mapped[str] = mapped_column(Text, default="")
    counts: Mapped[str] = mapped_column(Text, default="{}")  # JSON: days, rows, status, ...
    model_versions: Mapped[str] = mapped_column(String(200), default="")


class Review(Base):
    """A reviewer's decision on a case of a day's list; kept apart from the list's rows,
    so that rebuilding a list never loses what people recorded."""

    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_date: Mapped[dt.date] = mapped_column(Date, index=True)
    case_id: Mapped[str] = mapped_column(Text, index=True)
    decision: Mapped[str] = mapped_column(String(16))
    step: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)


class AuditRecord(Base):
    """Append-only and hash-chained: each record's hash covers the previous one."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    key_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[str] = mapped_column(Text)
    previous_hash: Mapped[str] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(64), unique=True)


class WebSession(Base):
    """A signed-in browser: the cookie carries a random token, only its SHA-256 is kept."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


def database_url(settings: Settings) -> str:
    return settings.database_url or f"sqlite:///{(settings.work_dir / 'earlywarn.db').resolve()}"


def migrate(url: str, busy_seconds: float = 10.0) -> None:
    """Bring the database to the newest schema (Alembic ``upgrade head``), one process at
    a time; a store that cannot be opened or migrated raises ``StoreError``, one line."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    try:
        with migration_connection(url, busy_seconds) as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except (SQLAlchemyError, CommandError) as error:
        raise setup_failure(url, error) from error


def open_store(settings: Settings) -> sessionmaker[Session]:
    """Migrate, then return a session factory bound to the store."""
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    url = database_url(settings)
    migrate(url, settings.database_busy_seconds)
    # A pooled connection the server dropped (a restart, an administrator) is replaced
    # before use, not failed on the next request.
    engine: Engine = create_engine(
        url,
        pool_pre_ping=True,
        connect_args=connect_arguments(url, settings.database_busy_seconds),
    )
    if engine.dialect.name == "sqlite":
        busy_ms = int(settings.database_busy_seconds * 1000)

        def pragmas(connection: Any, _: Any) -> None:
            """Write-ahead log: readers never wait for the writer, commits need no full
            sync, and a busy database is waited for (then answered 503) instead of
            failing the request at once."""
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
            cursor.close()

        event.listen(engine, "connect", pragmas)
        event.listen(engine, "begin", _refuse_unwritable_files(Path(engine.url.database or "")))
    return sessionmaker(engine, expire_on_commit=False)


def _refuse_unwritable_files(database: Path) -> Any:
    """Before each transaction, check that SQLite's files can still be written.

    SQLite maps the write-ahead log's index (``-shm``) into memory; when that file can no
    longer grow (made immutable, a full or read-only disk), touching the mapping kills
    the process with SIGBUS. Two ``access`` calls per transaction turn that into an
    ``OperationalError`` first, which the service answers 503.
    """
    files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]

    def check(_: Any) -> None:
        for file in files:
            if file.exists() and not os.access(file, os.W_OK):
                problem = sqlite3.OperationalError(f"{file.name} cannot be written")
                raise OperationalError("checking the store's files", None, problem)

    return check


def store_cause(error: Exception) -> str:
    """What went wrong with the store, in one line: the driver's own first line (``database
    is locked``), without SQLAlchemy's statement and background link."""
    cause = getattr(error, "orig", None) or error
    return str(cause).splitlines()[0] if str(cause) else type(error).__name__
