"""API keys and roles: who may see what (the audit log of what they saw is ``audit.py``)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from earlywarn.serving.store import ApiKey

KEY_PREFIX = "ew_"


class Role(StrEnum):
    CASE_SYSTEM = "case_system"  # score only
    OFFICE = "office"  # lists and reviews of its own county
    ANALYST = "analyst"  # read everything, no reviews
    ADMIN = "admin"


# Who may do what, for the API and the office page alike.
READERS = {Role.OFFICE, Role.ANALYST, Role.ADMIN}
MONITOR_READERS = {Role.ANALYST, Role.ADMIN}  # the monitoring page and its alerts
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
