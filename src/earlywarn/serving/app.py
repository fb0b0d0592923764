"""The FastAPI service: the score API, stored risk lists, reviews, health, and the office page.

Every call is authenticated by an API key (header ``X-API-Key``) or, on the page,
a session cookie; checked against its role and county; and audited. Client errors
are 4xx with a JSON body naming the field (on the page, a page in the reader's
language: ``web/failures.py``), our own bugs 5xx without a trace.
The routes live in ``serving/api/`` and ``serving/web/``; what they share (the
store, the scorer, the audit trail, the metrics) is put on ``app.state`` here and
handed to them by ``serving/deps.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.serving.access import KeyCache
from earlywarn.serving.api import docs_page, health, risk_lists, scores
from earlywarn.serving.api.health import ServiceMetrics
from earlywarn.serving.audit import audit_key
from earlywarn.serving.audit_trail import AuditTrail
from earlywarn.serving.errors import install_error_handlers
from earlywarn.serving.gate import ServiceGate
from earlywarn.serving.scorer import Scorer
from earlywarn.serving.throttle import FailureThrottle
from earlywarn.serving.web import case_pages, failures, monitor_pages, pages
from earlywarn.serving.web.deps import HERE, NotSignedInError, sign_in_address
from earlywarn.settings import Settings

logger = logging.getLogger(__name__)


def create_app(
    scorer: Scorer,
    sessions: sessionmaker[Session],
    batch_limit: int = 100,
    lifespan: Any = None,
    throttle: FailureThrottle | None = None,
) -> FastAPI:
    """The application over one scorer and one store; ``scorer`` may still be loading."""
    app = FastAPI(
        lifespan=lifespan,
        title="earlywarn",
        version="1",
        description="信访事项预警 early-warning scores and daily risk lists",
        # Swagger UI and ReDoc load their scripts from a CDN: our own page instead.
        docs_url=None,
        redoc_url=None,
    )
    app.state.scorer = scorer
    app.state.sessions = sessions
    app.state.trail = AuditTrail(_chain_key(scorer.settings, sessions), sessions)
    app.state.batch_limit = batch_limit
    app.state.keys = KeyCache(scorer.settings.key_cache_seconds)
    app.state.throttle = throttle or FailureThrottle()
    app.state.metrics = metrics = ServiceMetrics()

    app.add_middleware(ServiceGate, metrics=metrics, page_error=failures.page_error)
    install_error_handlers(app, failures.page_error)
    for router in (health.router, scores.router, risk_lists.router, docs_page.router):
        app.include_router(router)
    _mount_office_page(app)
    return app


def _mount_office_page(app: FastAPI) -> None:
    """The office's web page (``/office``) over the same store, scorer and audit chain."""
    app.mount("/office/static", StaticFiles(directory=HERE / "static"), name="office-static")
    app.include_router(pages.router)
    app.include_router(case_pages.router)
    app.include_router(monitor_pages.router)

    @app.exception_handler(NotSignedInError)
    def to_sign_in(request: Request, _: NotSignedInError) -> Response:
        return RedirectResponse(sign_in_address(request), status_code=303)

    @app.get("/", include_in_schema=False)
    def root() -> Response:
        return RedirectResponse("/office/list", status_code=303)


def _chain_key(settings: Settings, sessions: sessionmaker[Session]) -> bytes | Callable[[], bytes]:
    """The audit chain's key now; or, while the store cannot be read (a new key may be
    made only for an empty log), how to find it at the first record."""

    def when_readable() -> bytes:
        with sessions() as session:
            return audit_key(settings, session)

    try:
        return when_readable()
    except SQLAlchemyError:
        return when_readable
