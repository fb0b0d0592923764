"""What the routes depend on: the database session, the caller, the scorer, the audit trail.

Each lives on ``app.state`` (set by ``serving.app.create_app``) and is handed to the
routes as a FastAPI dependency, so a test can build the app over its own scorer or
override any of them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from typing import Annotated, Any, NoReturn, TypeVar

from fastapi import Depends, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from earlywarn.serving.access import KeyCache, authenticate
from earlywarn.serving.audit_trail import AuditTrail
from earlywarn.serving.roles import Role
from earlywarn.serving.schemas import ErrorOut
from earlywarn.serving.scorer import Scorer
from earlywarn.serving.store import ApiKey
from earlywarn.serving.throttle import FailureThrottle
from earlywarn.serving.web.sessions import COOKIE, signed_in

logger = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_SECONDS = 5  # how long a caller is asked to wait while the store is unavailable
NO_KEY = (
    "missing, unknown or revoked API key (header X-API-Key): the office's admin creates "
    "keys with `earlywarn keys create` (密钥缺失、无效或已吊销)"
)
HELD_BACK = "too many failed attempts from this address; try again later"
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "missing, unknown or revoked API key"},
    403: {"model": ErrorOut, "description": "the key's role may not do this"},
    404: {"model": ErrorOut, "description": "not found, or not visible to this key"},
    413: {"model": ErrorOut, "description": "body or batch too large"},
    429: {"model": ErrorOut, "description": "too many failed authentications; see Retry-After"},
    503: {"model": ErrorOut, "description": "models still loading, or the store is busy"},
}


def database(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as opened:
        yield opened


def scorer(request: Request) -> Scorer:
    found: Scorer = request.app.state.scorer
    return found


def audit_trail(request: Request) -> AuditTrail:
    found: AuditTrail = request.app.state.trail
    return found


Db = Annotated[Session, Depends(database)]
ScorerDep = Annotated[Scorer, Depends(scorer)]
Trail = Annotated[AuditTrail, Depends(audit_trail)]


def caller(
    request: Request, db: Db, trail: Trail, x_api_key: Annotated[str | None, Header()] = None
) -> ApiKey:
    """The caller's key. A valid key is served even while its address is held back: one
    component of a case system still sending a revoked key (or another client behind the
    same proxy) held back every valid call from that host; only unknown keys wait."""
    address = client_address(request)
    keys: KeyCache = request.app.state.keys
    key = keys.authenticate(db, x_api_key)
    throttle: FailureThrottle = request.app.state.throttle
    if key is None:
        throttled(request, db, trail, address, "authenticate")
        record_failure(request, db, trail, address, "authenticate", 401)
        raise HTTPException(401, NO_KEY)
    throttle.succeeded(address)
    return key


async def caller_on_loop(
    request: Request, x_api_key: Annotated[str | None, Header()] = None
) -> ApiKey:
    """``caller`` for a route on the event loop. A key shown within the cache's seconds is
    known without the store or a thread (a busy case system's every call); anything else
    takes ``caller``'s way, in a thread."""
    keys: KeyCache = request.app.state.keys
    throttle: FailureThrottle = request.app.state.throttle
    key = keys.held(x_api_key)
    if key is not None:
        throttle.succeeded(client_address(request))
        return key
    return await in_thread_with_store(
        request, lambda trail, db: caller(request, db, trail, x_api_key)
    )


# Resolved before the body is read, so a caller without a valid key learns nothing of it.
LoopCaller = Annotated[ApiKey, Depends(caller_on_loop)]


def _with_store(request: Request, work: Callable[[AuditTrail, Session], T]) -> T:
    with request.app.state.sessions() as db:
        return work(request.app.state.trail, db)


async def in_thread_with_store(request: Request, work: Callable[[AuditTrail, Session], T]) -> T:
    """``work`` with the audit trail and a session of its own, in the thread pool: how a
    route on the event loop takes the synchronous ways (``caller``, ``allow``, ``refuse``)."""
    return await run_in_threadpool(_with_store, request, work)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "-"


def throttled(request: Request, db: Session, trail: AuditTrail, address: str, action: str) -> None:
    """Refuse (429, audited) an address that must still wait after failing to authenticate."""
    throttle: FailureThrottle = request.app.state.throttle
    wait = throttle.wait_seconds(address)
    if wait > 0:
        record_held_back(request, db, trail, address, action)
        raise HTTPException(429, HELD_BACK, headers={"Retry-After": str(math.ceil(wait))})


def record_held_back(
    request: Request, db: Session, trail: AuditTrail, address: str, action: str
) -> None:
    """Audit a 429 of a waiting address: the first of each wait (see FailureThrottle)."""
    throttle: FailureThrottle = request.app.state.throttle
    if throttle.audit_held_back(address):
        trail.record(
            db, None, action, request.url.path, 0, "refused 429" + _unrecorded(throttle, address)
        )


def _unrecorded(throttle: FailureThrottle, address: str) -> str:
    """What a record of an address adds about the refusals not audited one by one."""
    count = throttle.unrecorded(address)
    return f" (+{count} more 429 not recorded one by one)" if count else ""


def record_failure(
    request: Request, db: Session, trail: AuditTrail, address: str, action: str, status: int
) -> None:
    """A failed attempt without a valid key: counted for the address's back-off and
    audited, with the refusals of the wait before it that were only counted."""
    throttle: FailureThrottle = request.app.state.throttle
    throttle.failed(address)
    trail.record(
        db, None, action, request.url.path, 0, f"refused {status}" + _unrecorded(throttle, address)
    )


def audit_refusal(
    request: Request, status: int, action: str, needs_key: bool = False
) -> tuple[int, dict[str, str] | None]:
    """Audit a call refused before its route ran (a body that cannot be parsed or failed
    validation), with the caller's key when it showed a valid one, and return the status
    and headers to answer with.

    FastAPI parses a JSON body before it resolves the route's dependencies, so a route
    that needs a key (``needs_key``) answers here as its key dependency would: 429 while
    the address must wait and the key is not valid, 401 (a failed attempt) without a valid
    key. Nobody without a key learns what a body should hold, or tries keys faster than
    the throttle allows."""
    throttle: FailureThrottle = request.app.state.throttle
    address = client_address(request)
    try:
        with request.app.state.sessions() as db:
            trail: AuditTrail = request.app.state.trail
            key = authenticate(db, request.headers.get("x-api-key"))
            if key is None and request.url.path.startswith("/office/"):
                # A reviewer's page: signed in by the session, not by a key header.
                session = signed_in(db, request.cookies.get(COOKIE))
                key = session.key if session is not None else None
            if key is None and (wait := throttle.wait_seconds(address)) > 0:
                record_held_back(request, db, trail, address, "authenticate")
                return 429, {"Retry-After": str(math.ceil(wait))}
            if needs_key and key is None:
                record_failure(request, db, trail, address, "authenticate", 401)
                return 401, None
            if key is None:  # refused without a key: a failure for the back-off too
                record_failure(request, db, trail, address, action, status)
                return status, None
            trail.record(db, key, action, request.url.path, 0, f"refused {status}")
    except OperationalError:  # the store is down: the answer still goes out, and is logged
        logger.exception("the refusal of %s %s could not be audited", request.method, action)
        if needs_key:  # no key can be checked: as the key dependency would, 503
            return 503, {"Retry-After": str(RETRY_SECONDS)}
    return status, None


def needs_a_key(request: Request) -> bool:
    """Whether the route the call reached depends on the caller's key."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    return dependant is not None and _depends_on_key(dependant)


def _depends_on_key(dependant: Any) -> bool:
    return any(
        sub.call in (caller, caller_on_loop) or _depends_on_key(sub)
        for sub in dependant.dependencies
    )


Caller = Annotated[ApiKey, Depends(caller)]


def refuse(
    trail: AuditTrail, db: Session, key: ApiKey, action: str, target: str, status: int, detail: Any
) -> NoReturn:
    """Refused calls are audited too: who tried what, and the answer (``detail``: a
    message, or FastAPI's list of field errors)."""
    trail.record(db, key, action, target, 0, f"refused {status}")
    raise HTTPException(status, detail)


def allow(
    trail: AuditTrail, db: Session, key: ApiKey, roles: set[Role], action: str, target: str
) -> None:
    if Role(key.role) not in roles:
        refuse(trail, db, key, action, target, 403, f"role {key.role} may not do this")
