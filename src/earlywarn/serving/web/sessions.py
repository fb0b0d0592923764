"""Browser sign-in: an office key is exchanged once for a session cookie.

The key travels only in the body of the sign-in form, never in an address; the
cookie holds a random token whose SHA-256 is stored; forms carry a per-session
token so that another site cannot post on the user's behalf.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from earlywarn.serving.access import READERS, authenticate, digest
from earlywarn.serving.roles import Role
from earlywarn.serving.store import ApiKey, WebSession, utc_now

COOKIE = "earlywarn_session"
LANGUAGE_COOKIE = "earlywarn_lang"
LIFETIME = dt.timedelta(hours=12)


@dataclass(frozen=True)
class SignedIn:
    key: ApiKey
    session: WebSession
    monitor_status: str | None = None  # analysts and admins: the latest monitored day's


class SignInError(ValueError):
    def __init__(self, reason: str) -> None:  # "bad_key" or "wrong_role": a word of i18n
        super().__init__(reason)
        self.reason = reason


def sign_in(db: Session, api_key: str) -> tuple[str, ApiKey]:
    """A new session for a valid key whose role may read lists; the cookie token."""
    key = authenticate(db, api_key.strip())
    if key is None:
        raise SignInError("bad_key")
    if Role(key.role) not in READERS:
        raise SignInError("wrong_role")
    # Sessions past their end are of no use to anyone: forget them on the way in.
    db.execute(delete(WebSession).where(WebSession.expires_at < utc_now() - dt.timedelta(days=1)))
    token = secrets.token_urlsafe(32)
    db.add(
        WebSession(
            token_hash=digest(token),
            csrf_token=secrets.token_urlsafe(24),
            key_id=key.id,
            expires_at=utc_now() + LIFETIME,
        )
    )
    db.flush()
    return token, key


def signed_in(db: Session, token: str | None) -> SignedIn | None:
    """The live session behind a cookie, with its key (not revoked since)."""
    if not token:
        return None
    found = db.scalars(select(WebSession).where(WebSession.token_hash == digest(token))).first()
    if found is None or found.ended_at is not None or found.expires_at <= utc_now():
        return None
    key = db.get(ApiKey, found.key_id)
    if key is None or key.revoked_at is not None:
        return None
    return SignedIn(key, found)


def sign_out(db: Session, session: WebSession) -> None:
    session.ended_at = utc_now()
    db.flush()


def same_site_form(headers: Mapping[str, str]) -> bool:
    """A sign-in form posted from this service's own page, as far as the browser says:
    its ``Origin`` (else its ``Referer``) names the host the request was sent to. A form
    on another site must not sign a reviewer's browser in with someone else's key (login
    CSRF: the reviews that follow would be recorded under that key). A client that sends
    neither header (a script, a privacy setting) is not a browser posting across sites."""
    host = headers.get("host", "")
    said = headers.get("origin") or headers.get("referer")
    if not said or said == "null":
        return said is None
    return urlsplit(said).netloc.lower() == host.lower()


def csrf_ok(session: WebSession, submitted: str | None) -> bool:
    """The form's token is the session's. Compared as bytes: ``compare_digest`` raises on
    a string holding anything but ASCII, and a forged token may hold anything."""
    if submitted is None:
        return False
    given = submitted.encode("utf-8", "surrogatepass")
    return secrets.compare_digest(session.csrf_token.encode("ascii"), given)
