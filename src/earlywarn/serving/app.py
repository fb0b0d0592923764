"""The FastAPI service: score API, stored risk lists, reviews, health and metrics.

(No ``from __future__ import annotations`` here: FastAPI must see the closure's
dependency aliases as objects, not as strings it cannot resolve.)

Every call is authenticated by an API key (header ``X-API-Key``), checked
against its role and county, and audited; client errors are 4xx with a JSON
body naming the field, our own bugs 5xx without a trace.
"""

import datetime as dt
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, NoReturn

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.serving.access import (
    READERS,
    REVIEWERS,
    SCORERS,
    AuditTrail,
    Role,
    authenticate,
)
from earlywarn.serving.lists import (
    Filters,
    OtherCountyError,
    export_file,
    find_list,
    item_query,
    latest_reviews,
    save_review,
    visible_item,
)
from earlywarn.serving.schemas import (
    BatchRequest,
    BatchResponse,
    ErrorOut,
    ListItem,
    ListPage,
    ReviewIn,
    ReviewOut,
    ScoreRequest,
    ScoreResponse,
)
from earlywarn.serving.scorer import OutOfRangeError, Scorer
from earlywarn.serving.steps import STEPS
from earlywarn.serving.store import ApiKey, RiskList

logger = logging.getLogger(__name__)
MAX_BODY_BYTES = 5 * 1024 * 1024
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "missing or unknown API key"},
    403: {"model": ErrorOut, "description": "the key's role may not do this"},
    404: {"model": ErrorOut, "description": "not found, or not visible to this key"},
    413: {"model": ErrorOut, "description": "body or batch too large"},
    503: {"model": ErrorOut, "description": "models still loading"},
}


@dataclass
class ListFilters:
    """Filters of a stored list (query parameters); an office key is held to its county."""

    county: str | None = Query(None, max_length=32)
    township: str | None = Query(None, max_length=32)
    category: str | None = Query(None, max_length=32)
    band: str | None = Query(None, pattern="^(high|medium|low)$")
    flag: bool | None = Query(None, description="either target flagged")
    reviewed: bool | None = Query(None, description="reviewed at least once")

    def plain(self) -> Filters:
        return Filters(
            county=self.county,
            township=self.township,
            category=self.category,
            band=self.band,
            flag=self.flag,
            reviewed=self.reviewed,
        )


def create_app(
    scorer: Scorer, sessions: sessionmaker[Session], batch_limit: int = 100, lifespan: Any = None
) -> FastAPI:
    """The application over one scorer and one store; ``scorer`` may still be loading."""
    app = FastAPI(
        lifespan=lifespan,
        title="earlywarn",
        version="1",
        description="信访事项预警 early-warning scores and daily risk lists",
    )
    metrics = CollectorRegistry()
    requests = Counter(
        "earlywarn_requests", "requests by route and status", ["route", "status"], registry=metrics
    )
    latency = Histogram(
        "earlywarn_request_seconds", "request latency by route", ["route"], registry=metrics
    )
    scores = Histogram(
        "earlywarn_score_probability",
        "scored probabilities",
        ["target"],
        registry=metrics,
        buckets=(0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0),
    )
    versions = Gauge(
        "earlywarn_model_info", "serving model versions", ["target", "version"], registry=metrics
    )

    @app.middleware("http")
    async def measure(request: Request, call_next: Any) -> Response:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return JSONResponse(
                {"detail": f"body larger than {MAX_BODY_BYTES} bytes"}, status_code=413
            )
        started = time.perf_counter()
        try:
            response: Response = await call_next(request)
        except Exception:  # our bug: log it, answer without a trace
            logger.exception("unhandled error on %s", request.url.path)
            response = JSONResponse({"detail": "internal error"}, status_code=500)
        route = request.scope.get("route")
        name = getattr(route, "path", "unmatched")
        requests.labels(name, str(response.status_code)).inc()
        latency.labels(name).observe(time.perf_counter() - started)
        return response

    def session() -> Iterator[Session]:
        with sessions() as opened:
            yield opened

    Db = Annotated[Session, Depends(session)]  # noqa: N806  (a type alias)

    def caller(db: Db, x_api_key: Annotated[str | None, Header()] = None) -> ApiKey:
        key = authenticate(db, x_api_key)
        if key is None:
            raise HTTPException(401, "missing or unknown API key (header X-API-Key)")
        return key

    Caller = Annotated[ApiKey, Depends(caller)]  # noqa: N806  (a type alias)

    def refuse(
        db: Session, key: ApiKey, action: str, target: str, status: int, message: str
    ) -> NoReturn:
        """Refused calls are audited too: who tried what, and the answer."""
        record(db, key, action, target, 0, f"refused {status}")
        raise HTTPException(status, message)

    def allow(db: Session, key: ApiKey, roles: set[Role], action: str, target: str) -> None:
        if Role(key.role) not in roles:
            refuse(db, key, action, target, 403, f"role {key.role} may not do this")

    trail = AuditTrail()
    record = trail.record
    mount_office_page(app, scorer, sessions, trail)

    def ready_scorer(db: Session, key: ApiKey, action: str, target: str) -> Scorer:
        if not scorer.ready:
            refuse(db, key, action, target, 503, "models are loading")
        return scorer

    def score_or_422(
        db: Session, key: ApiKey, action: str, service: Scorer, body: ScoreRequest
    ) -> ScoreResponse:
        try:
            return service.score(body)
        except OutOfRangeError as error:  # in FastAPI's own shape for invalid fields
            record(db, key, action, body.case.case_id, 0, "refused 422")
            detail = [{"loc": ["body", "as_of"], "msg": str(error), "type": "value_error"}]
            raise HTTPException(422, detail) from error

    def publish(response: ScoreResponse) -> None:
        for target in ("escalation", "collective"):
            scores.labels(target).observe(getattr(response, target).probability)

    @app.get("/live", tags=["health"])
    def live() -> dict[str, str]:
        """Always 200 while the process runs."""
        return {"status": "alive"}

    @app.get("/ready", tags=["health"], responses={503: {"description": "models not loaded yet"}})
    def ready() -> dict[str, Any]:
        """200 once the champion models are loaded and a warm-up score succeeded."""
        if not scorer.ready:
            raise HTTPException(503, "models are loading")
        return {"status": "ready", "models": scorer.versions}

    @app.get("/metrics", tags=["health"], response_class=Response)
    def prometheus() -> Response:
        """Prometheus metrics: requests, latencies, scores, model versions."""
        versions.clear()
        for target, version in scorer.versions.items():
            versions.labels(target, version).set(1)
        return Response(generate_latest(metrics), media_type=CONTENT_TYPE_LATEST)

    @app.post("/v1/score", response_model=ScoreResponse, tags=["score"], responses=ERRORS)
    def score(body: ScoreRequest, key: Caller, db: Db) -> ScoreResponse:
        """Score one case with its contacts and handling steps."""
        allow(db, key, SCORERS, "score", body.case.case_id)
        service = ready_scorer(db, key, "score", body.case.case_id)
        response = score_or_422(db, key, "score", service, body)
        publish(response)
        record(db, key, "score", body.case.case_id, 1, response.risk_band)
        return response

    @app.post("/v1/score/batch", response_model=BatchResponse, tags=["score"], responses=ERRORS)
    def score_batch(body: BatchRequest, key: Caller, db: Db) -> BatchResponse:
        """Score up to the configured number of cases in one request."""
        target = f"{len(body.cases)} cases"
        allow(db, key, SCORERS, "score_batch", target)
        if len(body.cases) > batch_limit:
            message = f"at most {batch_limit} cases per batch (field cases)"
            refuse(db, key, "score_batch", target, 413, message)
        service = ready_scorer(db, key, "score_batch", target)
        results = [score_or_422(db, key, "score_batch", service, case) for case in body.cases]
        for response in results:
            publish(response)
        record(db, key, "score_batch", target, len(results), "ok")
        return BatchResponse(results=results)

    def stored_list(db: Session, key: ApiKey, list_date: dt.date, action: str) -> RiskList:
        found = find_list(db, list_date)
        if found is None:
            refuse(db, key, action, str(list_date), 404, f"no risk list for {list_date}")
        assert found is not None
        return found

    def filtered(key: ApiKey, header: RiskList, filters: ListFilters) -> Any:
        try:
            return item_query(key, header, filters.plain())
        except OtherCountyError as error:
            raise HTTPException(404, str(error)) from error

    QueryFilters = Annotated[ListFilters, Depends()]  # noqa: N806  (a type alias)

    @app.get(
        "/v1/risk-lists/{list_date}", response_model=ListPage, tags=["risk lists"], responses=ERRORS
    )
    def get_list(
        list_date: dt.date,
        key: Caller,
        db: Db,
        filters: QueryFilters,
        page: int = Query(1, ge=1, le=100_000),
        page_size: int = Query(50, ge=1, le=500),
    ) -> ListPage:
        """A stored daily list, paged and filtered; office keys see their own county only."""
        allow(db, key, READERS, "risk_list.view", str(list_date))
        header = stored_list(db, key, list_date, "risk_list.view")
        query = filtered(key, header, filters)
        total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = db.scalars(query.offset((page - 1) * page_size).limit(page_size)).all()
        latest = latest_reviews(db, list_date, [r.case_id for r in rows])
        items = [
            ListItem.model_validate(r, from_attributes=True).model_copy(
                update={"review": latest[r.case_id].decision if r.case_id in latest else None}
            )
            for r in rows
        ]
        record(db, key, "risk_list.view", f"{list_date} page {page}", len(items), "ok")
        return ListPage(
            list_date=list_date,
            as_of=header.as_of,
            model_versions=header.model_versions,
            total=total,
            page=page,
            page_size=page_size,
            items=items,
        )

    @app.get(
        "/v1/risk-lists/{list_date}/export",
        tags=["risk lists"],
        response_class=Response,
        responses=ERRORS,
    )
    def export_list(
        list_date: dt.date,
        key: Caller,
        db: Db,
        filters: QueryFilters,
        format: str = Query("csv", pattern="^(csv|xlsx)$"),
    ) -> Response:
        """The filtered list as CSV or XLSX."""
        allow(db, key, READERS, "risk_list.export", str(list_date))
        header = stored_list(db, key, list_date, "risk_list.export")
        rows = list(db.scalars(filtered(key, header, filters)).all())
        content, media, count = export_file(db, header, rows, format)
        record(db, key, "risk_list.export", f"{list_date} {format}", count, "ok")
        name = f"risk-list-{list_date}.{format}"
        return Response(
            content,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @app.post(
        "/v1/risk-lists/{list_date}/cases/{case_id}/review",
        response_model=ReviewOut,
        tags=["risk lists"],
        responses=ERRORS,
    )
    def review(list_date: dt.date, case_id: str, body: ReviewIn, key: Caller, db: Db) -> ReviewOut:
        """Record the reviewer's decision on a case of the day's list."""
        allow(db, key, REVIEWERS, "review", f"{list_date}/{case_id}")
        header = stored_list(db, key, list_date, "review")
        if visible_item(db, key, header, case_id) is None:
            raise HTTPException(404, f"case {case_id} is not on the {list_date} list of this key")
        if body.step is not None and body.step not in STEPS:
            raise HTTPException(
                422, f"field step: unknown step {body.step!r}; one of {sorted(STEPS)}"
            )
        saved = save_review(db, key, list_date, case_id, body)
        record(db, key, "review", f"{list_date}/{case_id}", 1, body.decision)
        return ReviewOut(
            list_date=list_date,
            case_id=case_id,
            decision=saved.decision,
            step=saved.step,
            reason=saved.reason,
            created_at=saved.created_at,
        )

    return app


def mount_office_page(
    app: FastAPI, scorer: Scorer, sessions: sessionmaker[Session], trail: AuditTrail
) -> None:
    """The office's web page (``/office``) over the same store, scorer and audit chain."""
    from fastapi.responses import RedirectResponse
    from fastapi.staticfiles import StaticFiles

    from earlywarn.web.pages import HERE, NotSignedInError, office_router

    app.mount("/office/static", StaticFiles(directory=HERE / "static"), name="office-static")
    app.include_router(office_router(scorer, sessions, trail))

    @app.exception_handler(NotSignedInError)
    def to_sign_in(_: Request, __: NotSignedInError) -> Response:
        return RedirectResponse("/office/sign-in", status_code=303)

    @app.get("/", include_in_schema=False)
    def root() -> Response:
        return RedirectResponse("/office/list", status_code=303)
