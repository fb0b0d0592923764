"""The office's morning page: sign-in, today's list, a case, trends (server-rendered).

Mounted by ``serving.app.create_app`` under ``/office``. Every view, export and
review is written to the same audit chain as the API's calls.

(No ``from __future__ import annotations``: FastAPI must see the closure's
dependency aliases as objects.)
"""

import datetime as dt
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.serving.access import REVIEWERS, AuditTrail, Role
from earlywarn.serving.lists import (
    Filters,
    OtherCountyError,
    export_file,
    find_list,
    item_query,
    latest_reviews,
    list_dates,
    save_review,
    visible_item,
)
from earlywarn.serving.schemas import ReviewIn
from earlywarn.serving.scorer import Scorer
from earlywarn.serving.steps import STEPS
from earlywarn.serving.store import Review, RiskListItem
from earlywarn.web import i18n, views
from earlywarn.web.sessions import (
    COOKIE,
    LANGUAGE_COOKIE,
    LIFETIME,
    SignedIn,
    SignInError,
    csrf_ok,
    sign_in,
    sign_out,
    signed_in,
)

HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
PAGE_SIZES = (50, 100, 200)


class NotSignedInError(Exception):
    """Answered by a redirect to the sign-in page (see ``create_app``)."""


def _optional(value: str | None) -> str | None:
    return value or None


def _day(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def office_router(scorer: Scorer, sessions: sessionmaker[Session], trail: AuditTrail) -> APIRouter:
    router = APIRouter(prefix="/office", include_in_schema=False)

    def session() -> Iterator[Session]:
        with sessions() as opened:
            yield opened

    Db = Annotated[Session, Depends(session)]  # noqa: N806  (a type alias)

    def language(request: Request) -> i18n.Language:
        chosen = request.cookies.get(LANGUAGE_COOKIE)
        return "en" if chosen == "en" else "zh"

    Lang = Annotated[i18n.Language, Depends(language)]  # noqa: N806  (a type alias)

    def viewer(request: Request, db: Db) -> SignedIn:
        found = signed_in(db, request.cookies.get(COOKIE))
        if found is None:
            raise NotSignedInError()
        return found

    Viewer = Annotated[SignedIn, Depends(viewer)]  # noqa: N806  (a type alias)

    def render(
        request: Request, name: str, lang: i18n.Language, status: int = 200, **context: Any
    ) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(
            request, name, views.page_context(request, lang) | context, status_code=status
        )

    def missing(request: Request, lang: i18n.Language, who: SignedIn, message: str) -> Response:
        return render(request, "message.html", lang, 404, who=who, message=i18n.word(message, lang))

    @router.get("/")
    def home() -> RedirectResponse:
        return RedirectResponse("/office/list", status_code=303)

    @router.get("/sign-in", response_class=HTMLResponse)
    def sign_in_page(request: Request, lang: Lang) -> HTMLResponse:
        return render(request, "sign_in.html", lang, error=None)

    @router.post("/sign-in", response_class=HTMLResponse)
    def sign_in_submit(
        request: Request, db: Db, lang: Lang, api_key: Annotated[str, Form(max_length=200)]
    ) -> Response:
        try:
            token, key = sign_in(db, api_key)
        except SignInError as error:
            return render(request, "sign_in.html", lang, 401, error=i18n.word(error.reason, lang))
        trail.record(db, key, "web.sign_in", key.county_code or "all", 0, "ok")
        response = RedirectResponse("/office/list", status_code=303)
        response.set_cookie(
            COOKIE,
            token,
            max_age=int(LIFETIME.total_seconds()),
            httponly=True,
            samesite="strict",
            path="/office",
            secure=request.url.scheme == "https",
        )
        return response

    @router.post("/sign-out")
    def sign_out_submit(db: Db, who: Viewer, csrf: Annotated[str, Form()] = "") -> Response:
        if not csrf_ok(who.session, csrf):
            raise HTTPException(403, "form token")
        sign_out(db, who.session)
        trail.record(db, who.key, "web.sign_out", "-", 0, "ok")
        response = RedirectResponse("/office/sign-in", status_code=303)
        response.delete_cookie(COOKIE, path="/office")
        return response

    @router.get("/lang/{chosen}")
    def switch_language(chosen: i18n.Language, back: str = "/office/list") -> Response:
        safe = back if back.startswith("/office/") and "//" not in back else "/office/list"
        response = RedirectResponse(safe, status_code=303)
        response.set_cookie(LANGUAGE_COOKIE, chosen, max_age=365 * 86400, samesite="lax")
        return response

    def filters_of(request: Request) -> Filters:
        asked = request.query_params
        return Filters(
            county=_optional(asked.get("county")),
            township=_optional(asked.get("township")),
            category=_optional(asked.get("category")),
            band=asked.get("band") if asked.get("band") in i18n.BAND else None,
            flag=_yes_no(asked.get("flag")),
            reviewed=_yes_no(asked.get("reviewed")),
            sort=asked.get("sort") or "rank",
            descending=asked.get("sort") in ("escalation", "collective"),  # riskiest first
        )

    def chosen_day(db: Session, day: str | None) -> dt.date | None:
        if day:
            return _day(day)
        days = list_dates(db, 1)
        return days[0] if days else None

    @router.get("/list", response_class=HTMLResponse)
    def daily_list(
        request: Request,
        db: Db,
        lang: Lang,
        who: Viewer,
        date: str | None = None,
        page: int = Query(1, ge=1, le=100_000),
        size: int = Query(100, ge=1, le=200),
    ) -> Response:
        day = chosen_day(db, date)
        header = find_list(db, day) if day else None
        filters = filters_of(request)
        if header is None or day is None:
            trail.record(db, who.key, "web.list.view", str(date), 0, "no list")
            return render(request, "list.html", lang, 404, who=who, day=day, header=None,
                          dates=list_dates(db), filters=filters)  # fmt: skip
        try:
            query = item_query(who.key, header, filters)
        except OtherCountyError:
            return missing(request, lang, who, "not_found")
        total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
        pages = max(1, math.ceil(total / size))
        rows = list(db.scalars(query.offset((min(page, pages) - 1) * size).limit(size)))
        reviews = latest_reviews(db, day, [r.case_id for r in rows])
        townships = db.scalars(
            select(RiskListItem.township_code)
            .where(RiskListItem.list_id == header.id, RiskListItem.township_code.is_not(None))
            .where(
                *([RiskListItem.county_code == who.key.county_code] if who.key.county_code else [])
            )
            .distinct()
            .order_by(RiskListItem.township_code)
        ).all()
        trail.record(db, who.key, "web.list.view", f"{day} page {page}", len(rows), "ok")
        return render(
            request, "list.html", lang, who=who, day=day, header=header, filters=filters,
            rows=[views.list_row(r, reviews.get(r.case_id), lang) for r in rows], total=total,
            page=min(page, pages), pages=pages, size=size, sizes=PAGE_SIZES,
            dates=list_dates(db), townships=townships, categories=i18n.CATEGORY,
            query=views.query_without(request, "page"),
            export_query=views.query_without(request, "page", "size", "date"),
        )  # fmt: skip

    @router.get("/list/export")
    def export(request: Request, db: Db, who: Viewer, date: str, format: str = "xlsx") -> Response:
        day = _day(date)
        header = find_list(db, day) if day else None
        if header is None or format not in ("xlsx", "csv"):
            raise HTTPException(404, "no such list or format")
        try:
            rows = list(db.scalars(item_query(who.key, header, filters_of(request))))
        except OtherCountyError as error:
            raise HTTPException(404, "not found") from error
        content, media, count = export_file(db, header, rows, format)
        trail.record(db, who.key, "risk_list.export", f"{date} {format} (page)", count, "ok")
        name = f"risk-list-{date}.{format}"
        return Response(
            content,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    def item_on(db: Session, who: SignedIn, day: dt.date, case_id: str) -> RiskListItem | None:
        header = find_list(db, day)
        return visible_item(db, who.key, header, case_id) if header else None

    @router.get("/cases/{case_id}", response_class=HTMLResponse)
    def case_page(
        request: Request, case_id: str, db: Db, lang: Lang, who: Viewer, date: str | None = None
    ) -> Response:
        day = chosen_day(db, date)
        item = item_on(db, who, day, case_id) if day else None
        if item is None or day is None:
            trail.record(db, who.key, "web.case.view", f"{date}/{case_id}", 0, "refused 404")
            return missing(request, lang, who, "not_found")
        header = find_list(db, day)
        assert header is not None
        context = views.case_context(db, scorer, item, header, lang)
        reviews = db.scalars(
            select(Review)
            .where(Review.list_date == day, Review.case_id == case_id)
            .order_by(Review.id)
        ).all()
        trail.record(db, who.key, "web.case.view", f"{day}/{case_id}", 1, "ok")
        return render(
            request, "case.html", lang, who=who, day=day, item=item, header=header,
            reviews=reviews, steps=STEPS, can_review=Role(who.key.role) in REVIEWERS,
            saved=request.query_params.get("saved") == "1", error=None, **context,
        )  # fmt: skip

    @router.post("/cases/{case_id}/review", response_class=HTMLResponse)
    def review_submit(
        request: Request,
        case_id: str,
        db: Db,
        lang: Lang,
        who: Viewer,
        date: Annotated[str, Form()],
        decision: Annotated[str, Form()] = "",
        step: Annotated[str, Form()] = "",
        reason: Annotated[str, Form(max_length=2000)] = "",
        csrf: Annotated[str, Form()] = "",
    ) -> Response:
        if not csrf_ok(who.session, csrf):
            raise HTTPException(403, "form token")
        day = _day(date)
        item = item_on(db, who, day, case_id) if day else None
        if item is None or day is None:
            return missing(request, lang, who, "not_found")
        if Role(who.key.role) not in REVIEWERS:
            trail.record(db, who.key, "review", f"{day}/{case_id}", 0, "refused 403")
            raise HTTPException(403, "this key may not record reviews")
        try:
            body = ReviewIn(decision=decision, step=_optional(step), reason=_optional(reason))  # type: ignore[arg-type]
            if body.step is not None and body.step not in STEPS:
                raise ValueError(f"unknown step {body.step}")
        except (ValidationError, ValueError) as error:
            header = find_list(db, day)
            assert header is not None
            message = error.errors()[0]["msg"] if isinstance(error, ValidationError) else str(error)
            return render(
                request, "case.html", lang, 422, who=who, day=day, item=item, header=header,
                reviews=[], steps=STEPS, can_review=True, saved=False, error=message,
                **views.case_context(db, scorer, item, header, lang),
            )  # fmt: skip
        save_review(db, who.key, day, case_id, body)
        trail.record(db, who.key, "review", f"{day}/{case_id}", 1, body.decision)
        target = f"/office/cases/{case_id}?" + urlencode({"date": day.isoformat(), "saved": 1})
        return RedirectResponse(target, status_code=303)

    @router.get("/trends", response_class=HTMLResponse)
    def trends_page(
        request: Request, db: Db, lang: Lang, who: Viewer, category: str | None = None
    ) -> Response:
        chosen = category if category in i18n.CATEGORY else None
        context = views.trends_context(db, scorer, who, chosen, lang)
        trail.record(db, who.key, "web.trends.view", who.key.county_code or "all", 0, "ok")
        return render(request, "trends.html", lang, who=who, **context)

    return router
