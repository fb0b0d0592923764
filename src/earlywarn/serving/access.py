"""API keys and roles: who may see what (the audit log of what they saw is ``audit.py``)."""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from earlywarn.serving.roles import Role
from earlywarn.serving.store import ApiKey

KEY_PREFIX = "ew_"
PREFIX_CHARS = 10  # of a key kept in clear, to name it in lists and the audit
# A county code as offices write them (330211, 鄞州区): nothing a spreadsheet would run.
COUNTY_CODE = re.compile(r"\w[\w.-]*")


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
    """A new random key; an office key must name its county, and only an office key may."""
    if role is Role.OFFICE and not county:
        raise ValueError(
            "an office key needs --county: it sees only its own county (办公室密钥须指定县区)"
        )
    if county is not None and role is not Role.OFFICE:
        # It would be kept and shown by `keys list`, and hold the key to nothing.
        raise ValueError(
            f"only an office key is held to a county: a {role.value} key sees every "
            "county; leave out --county (只有办公室密钥限定县区)"
        )
    if county is not None and not COUNTY_CODE.fullmatch(county):
        raise ValueError(
            f"{county!r} is not a county code: letters, digits, '.', '-' and '_', beginning "
            "with a letter or digit (县区代码格式不正确)"
        )
    token = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        prefix=token[:PREFIX_CHARS],
        key_hash=digest(token),
        role=role.value,
        county_code=county,
        label=label,
    )
    session.add(key)
    session.flush()
    return NewKey(token, key)


def authenticate(session: Session, token: str | None) -> ApiKey | None:
    if not token:
        return None
    key = session.scalars(select(ApiKey).where(ApiKey.key_hash == digest(token))).first()
    return key if key is not None and key.revoked_at is None else None


class KeyCache:
    """Keys shown recently, held for a few seconds so that a busy caller's key is not read
    from the store on every call. A revoked key is refused within ``seconds`` (0: every
    call reads the store). Only valid keys are held, as copies no session can expire."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._held: dict[str, tuple[ApiKey, float]] = {}
        self._lock = threading.Lock()

    def held(self, token: str | None) -> ApiKey | None:
        """The key if it was shown within ``seconds``, without reading the store."""
        if not token or self.seconds <= 0:
            return None
        with self._lock:
            held = self._held.get(digest(token))
        return held[0] if held is not None and held[1] > time.monotonic() else None

    def authenticate(self, session: Session, token: str | None) -> ApiKey | None:
        if not token or self.seconds <= 0:
            return authenticate(session, token)
        found = self.held(token)
        if found is not None:
            return found
        hashed, now = digest(token), time.monotonic()
        key = authenticate(session, token)
        with self._lock:
            if key is None:
                self._held.pop(hashed, None)
            else:
                copy = ApiKey(**{c: getattr(key, c) for c in _KEY_COLUMNS})
                self._held[hashed] = (copy, now + self.seconds)
        return key


_KEY_COLUMNS = ("id", "prefix", "key_hash", "role", "county_code", "label", "created_at",
                "revoked_at")  # fmt: skip
