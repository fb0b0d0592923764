"""What the routes depend on: the database session, the caller, the scorer, the audit trail.

Each lives on ``app.state`` (set by ``serving.app.create_app``) and is handed to the
routes as a FastAPI dependency, so a test can build the app over its own scorer or
override any of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, NoReturn

from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy.orm import Session

from earlywarn.serving.access import AuditTrail, Role, authenticate
from earlywarn.serving.schemas import ErrorOut
from earlywarn.serving.scorer import Scorer
from earlywarn.serving.store import ApiKey

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "missing or unknown API key"},
    403: {"model": ErrorOut, "description": "the key's role may not do this"},
    404: {"model": ErrorOut, "description": "not found, or not visible to this key"},
    413: {"model": ErrorOut, "description": "body or batch too large"},
    503: {"model": ErrorOut, "description": "models still loading"},
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


def caller(db: Db, x_api_key: Annotated[str | None, Header()] = None) -> ApiKey:
    key = authenticate(db, x_api_key)
    if key is None:
        raise HTTPException(401, "missing or unknown API key (header X-API-Key)")
    return key


Caller = Annotated[ApiKey, Depends(caller)]


def refuse(
    trail: AuditTrail, db: Session, key: ApiKey, action: str, target: str, status: int, message: str
) -> NoReturn:
    """Refused calls are audited too: who tried what, and the answer."""
    trail.record(db, key, action, target, 0, f"refused {status}")
    raise HTTPException(status, message)


def allow(
    trail: AuditTrail, db: Session, key: ApiKey, roles: set[Role], action: str, target: str
) -> None:
    if Role(key.role) not in roles:
        refuse(trail, db, key, action, target, 403, f"role {key.role} may not do this")
