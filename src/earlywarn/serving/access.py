"""API keys and roles: who may see what, and the hash-chained audit log of what they saw."""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from earlywarn.serving.store import ApiKey, AuditRecord, utc_now

GENESIS = "0" * 64
KEY_PREFIX = "ew_"
AUDIT_LOCK = 7_341_026  # the advisory lock that orders audit appends on PostgreSQL


class Role(StrEnum):
    CASE_SYSTEM = "case_system"  # score only
    OFFICE = "office"  # lists and reviews of its own county
    ANALYST = "analyst"  # read everything, no reviews
    ADMIN = "admin"


# Who may do what, for the API and the office page alike.
READERS = {Role.OFFICE, Role.ANALYST, Role.ADMIN}
SCORERS = {Role.CASE_SYSTEM, Role.ANALYST, Role.ADMIN}
REVIEWERS = {Role.OFFICE, Role.ADMIN}


def digest(token: str) -> str:
    """Secrets (keys, session tokens) are stored only as this."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewKey:
    token: str  # shown once; never stored
    key: ApiKey


def create_key(
    session: Session, role: Role, county: str | None = None, label: str | None = None
) -> NewKey:
    """A new random key; an office key must name its county."""
    if role is Role.OFFICE and not county:
        raise ValueError("an office key needs --county: it sees only its own county")
    token = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        prefix=token[:10], key_hash=digest(token), role=role.value, county_code=county, label=label
    )
    session.add(key)
    session.flush()
    return NewKey(token, key)


def authenticate(session: Session, token: str | None) -> ApiKey | None:
    if not token:
        return None
    key = session.scalars(select(ApiKey).where(ApiKey.key_hash == digest(token))).first()
    return key if key is not None and key.revoked_at is None else None


def _record_hash(previous: str, fields: dict[str, object]) -> str:
    payload = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256((previous + payload).encode("utf-8")).hexdigest()


def _fields(record: AuditRecord) -> dict[str, object]:
    return {
        "at": record.at.isoformat(),
        "key_id": record.key_id,
        "actor": record.actor,
        "action": record.action,
        "target": record.target,
        "rows": record.rows,
        "result": record.result,
    }


def audit(
    session: Session,
    actor: str,
    action: str,
    target: str,
    rows: int,
    result: str,
    key_id: int | None = None,
) -> AuditRecord:
    """Append one record to the chain (inside the caller's transaction).

    Safe across processes (``serve --workers N``): the record is written before the
    previous one is read. On SQLite that first write takes the database's write lock,
    so the record with the next lower id is the last committed one; on PostgreSQL,
    whose ids need not commit in order, a transaction-scoped advisory lock comes first.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK})
    record = AuditRecord(
        at=utc_now(),
        key_id=key_id,
        actor=actor,
        action=action,
        target=target,
        rows=rows,
        result=result,
        previous_hash=GENESIS,
        record_hash="pending-" + uuid.uuid4().hex,  # unique until the real hash is known
    )
    session.add(record)
    session.flush()
    previous = session.scalar(
        select(AuditRecord.record_hash)
        .where(AuditRecord.id < record.id)
        .order_by(AuditRecord.id.desc())
        .limit(1)
    )
    record.previous_hash = previous or GENESIS
    record.record_hash = _record_hash(record.previous_hash, _fields(record))
    session.flush()
    return record


class AuditTrail:
    """The service's way into the chain: one record per call, committed with its work."""

    def __init__(self) -> None:
        # The database keeps the chain whole across processes (see ``audit``); within
        # one process, taking turns here is cheaper than SQLite's busy-wait sleeps.
        self._turn = threading.Lock()

    def record(
        self, db: Session, key: ApiKey, action: str, target: str, rows: int, result: str
    ) -> None:
        with self._turn:
            audit(db, f"key:{key.prefix}", action, target, rows, result, key.id)
            db.commit()


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    records: int
    first_broken: int | None = None
    problem: str = ""


def verify_chain(session: Session) -> ChainCheck:
    """Recompute every hash: an edited, inserted or deleted record breaks the chain."""
    previous = GENESIS
    count = 0
    for record in session.scalars(select(AuditRecord).order_by(AuditRecord.id)):
        count += 1
        if record.previous_hash != previous:
            return ChainCheck(False, count, record.id, "a record before it was deleted or changed")
        if _record_hash(previous, _fields(record)) != record.record_hash:
            return ChainCheck(False, count, record.id, "the record was edited")
        previous = record.record_hash
    return ChainCheck(True, count)
