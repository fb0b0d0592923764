"""The office's morning page: sign-in, language, the day's list and its export.

Included by ``serving.app.create_app`` under ``/office`` (the case page and the
trends are ``case_pages``). Every view, export and review is written to the same
audit chain as the API's calls.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import func, select

from earlywarn.serving.deps import Db, ScorerDep, Trail, client_address, throttled
from earlywarn.serving.ledger import filter_words
from earlywarn.serving.lists import (
    Filters,
    OtherCountyError,
    attachment,
    export_file,
    export_name,
    find_list,
    item_query,
    latest_reviews,
    list_capacity,
    list_dates,
    narrowing,
)
from earlywarn.serving.reasons_later import with_reasons
from earlywarn.serving.store import RiskListItem
from earlywarn.serving.throttle import FailureThrottle
from earlywarn.serving.web import i18n, views
from earlywarn.serving.web.deps import (
    Lang,
    Viewer,
    chosen_day,
    day_of,
    filters_of,
    missing,
    odd_parameters,
    refused,
    render,
    safe_back,
)
from earlywarn.serving.web.sessions import (
    COOKIE,
    LANGUAGE_COOKIE,
    LIFETIME,
    SignInError,
    csrf_ok,
    same_site_form,
    sign_in,
    sign_out,
)

PAGE_SIZES = (50, 100, 200)
router = APIRouter(prefix="/office", include_in_schema=False)


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/office/list", status_code=303)


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(
    request: Request,
    lang: Lang,
    next_page: Annotated[str | None, Query(alias="next", max_length=2000)] = None,
    ended: str | None = None,
) -> HTMLResponse:
    """The sign-in form; after a session ended, saying so (and that a form sent then was
    not saved), and returning to the page the reviewer was on."""
    note = {"1": "session_ended", "unsaved": "session_ended_unsaved"}.get(ended or "")
    return render(request, "sign_in.html", lang, error=None, back=safe_back(next_page),
                  note=i18n.word(note, lang) if note else None)  # fmt: skip


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in_submit(
    request: Request,
    db: Db,
    trail: Trail,
    lang: Lang,
    api_key: Annotated[str, Form(max_length=200)],
    next_page: Annotated[str, Form(alias="next", max_length=2000)] = "",
) -> Response:
    address = client_address(request)
    back = safe_back(next_page)
    try:
        throttled(request, db, trail, address, "web.sign_in")
    except HTTPException as held:  # 429, audited: the form again, saying why
        error = i18n.word("too_many_attempts", lang)
        answer = render(request, "sign_in.html", lang, held.status_code, error=error, back=back)
        answer.headers.update(held.headers or {})
        return answer
    if not same_site_form(request.headers):
        trail.record(db, None, "web.sign_in", "-", 0, "refused 403 cross-site form")
        return render(
            request, "sign_in.html", lang, 403, error=i18n.word("cross_site", lang), back=back
        )
    throttle: FailureThrottle = request.app.state.throttle
    try:
        token, key = sign_in(db, api_key)
    except SignInError as error:
        throttle.failed(address)
        trail.record(db, None, "web.sign_in", "-", 0, f"refused 401 {error.reason}")
        return render(
            request, "sign_in.html", lang, 401, error=i18n.word(error.reason, lang), back=back
        )
    throttle.succeeded(address)
    trail.record(db, key, "web.sign_in", key.county_code or "all", 0, "ok")
    response = RedirectResponse(back or "/office/list", status_code=303)
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
def sign_out_submit(
    request: Request,
    db: Db,
    trail: Trail,
    lang: Lang,
    who: Viewer,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    if not csrf_ok(who.session, csrf):
        trail.record(db, who.key, "web.sign_out", "-", 0, "refused 403")
        return refused(request, lang, who, 403, "form_token")
    sign_out(db, who.session)
    trail.record(db, who.key, "web.sign_out", "-", 0, "ok")
    response = RedirectResponse("/office/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/office")
    return response


@router.get("/lang/{chosen}")
def switch_language(chosen: i18n.Language, back: str = "/office/list") -> Response:
    safe = safe_back(back) or "/office/list"
    response = RedirectResponse(safe, status_code=303)
    response.set_cookie(LANGUAGE_COOKIE, chosen, max_age=365 * 86400, samesite="lax")
    return response


@router.get("/list", response_class=HTMLResponse)
def daily_list(
    request: Request,
    db: Db,
    trail: Trail,
    scorer: ScorerDep,
    lang: Lang,
    who: Viewer,
    date: str | None = None,
    page: int = 1,
    size: int = 100,
) -> Response:
    odd_date = date if date and day_of(date) is None else None
    day = chosen_day(db, None if odd_date else date)
    header = find_list(db, day) if day else None
    filters = filters_of(request)
    notices = views.notices(lang, odd_date, odd_parameters(request))
    # An address edited by hand (page=0, size=1000) is answered with a notice, not refused.
    if not 1 <= size <= PAGE_SIZES[-1]:
        shown_size = min(max(size, 1), PAGE_SIZES[-1])
        notices.append(i18n.word("size_limits", lang, most=PAGE_SIZES[-1], asked=size,
                                 size=shown_size))  # fmt: skip
        size = shown_size
    if page < 1:
        notices.append(i18n.word("page_before", lang, asked=page))
        page = 1
    if header is None or day is None:
        trail.record(db, who.key, "web.list.view", str(date), 0, "no list")
        dates = list_dates(db)
        # The lists on either side of a day without one, to go to in one click.
        nearest = [
            d
            for d in (
                max((d for d in dates if day and d < day), default=None),
                min((d for d in dates if day and d > day), default=None),
            )
            if d
        ]
        return render(request, "list.html", lang, 404, who=who, day=day, header=None,
                      dates=dates, filters=filters, notices=notices, nearest=nearest,
                      categories=i18n.CATEGORY, sizes=sorted({*PAGE_SIZES, size}), size=size,
                      query=views.query_without(request, "page", "date"))  # fmt: skip
    try:
        query = item_query(who.key, header, filters)
    except OtherCountyError:
        trail.record(db, who.key, "web.list.view", f"{day} county {filters.county}", 0,
                     "refused 404")  # fmt: skip
        return missing(request, lang, who, "not_found")
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, math.ceil(total / size))
    if page > pages:  # said, not answered as if page 99 were the last
        notices.append(i18n.word("page_beyond", lang, asked=page, pages=pages))
    rows = list(db.scalars(query.offset((min(page, pages) - 1) * size).limit(size)))
    rows = with_reasons(scorer, header, rows)
    reviews = latest_reviews(db, day, [r.case_id for r in rows])
    before = latest_reviews(db, day, [r.case_id for r in rows if r.case_id not in reviews], True)
    county = who.key.county_code or filters.county
    on_list = RiskListItem.list_id == header.id
    if (
        county
        and not who.key.county_code
        and not db.scalar(select(func.count()).where(on_list, RiskListItem.county_code == county))
    ):  # a county typed by hand that the list does not hold: said, not an empty page
        notices.append(i18n.word("county_not_listed", lang, county=county))
    townships = db.scalars(
        select(RiskListItem.township_code)
        .where(on_list, RiskListItem.township_code.is_not(None))
        .where(*([RiskListItem.county_code == county] if county else []))
        .distinct()
        .order_by(RiskListItem.township_code)
    ).all()
    # What was shown: the day, the filters applied (not those ignored) and the page and
    # page size actually served, not as asked.
    odd = {item.split("=", 1)[0] for item in odd_parameters(request)}
    shown = views.query_without(request, "page", "date", "size", "lang", *odd)
    trail.record(db, who.key, "web.list.view",
                 f"{day} page {min(page, pages)} size {size}" + (f" {shown}" if shown else ""),
                 len(rows), "ok")  # fmt: skip
    return render(
        request, "list.html", lang, who=who, day=day, header=header, filters=filters,
        notices=notices, since=views.compared_with(rows, lang), filtered=bool(shown),
        rows=[views.list_row(r, reviews.get(r.case_id), lang, before.get(r.case_id))
              for r in rows], total=total,
        page=min(page, pages), pages=pages, size=size,
        sizes=sorted({*PAGE_SIZES, size}),  # a size typed in the address stays chosen
        dates=list_dates(db), townships=townships, categories=i18n.CATEGORY,
        query=views.query_without(request, "page"), list_query=views.query_without(request),
        **views.workload(db, header, scorer.settings, who.key.county_code or filters.county),
        export_query=views.query_without(request, "page", "size", "date"),
        scope=_scope_words(who.key.county_code or filters.county, filters, lang),
    )  # fmt: skip


def _scope_words(county: str | None, filters: Filters, lang: i18n.Language) -> str:
    """Whose list and which part of it, for a printout (the header and the filters are
    not printed): the county and the filters, as the export's title says them."""
    narrowed = narrowing(filters)
    return i18n.word(
        "print_scope",
        lang,
        county=f"{i18n.word('county', lang)} {county}"
        if county
        else i18n.word("all_counties", lang),
        filters=filter_words(narrowed, lang) if narrowed else i18n.word("whole_list", lang),
    )


@router.get("/list/export")
def export(
    request: Request,
    db: Db,
    trail: Trail,
    scorer: ScorerDep,
    who: Viewer,
    lang: Lang,
    date: str,
    format: str = "xlsx",
) -> Response:
    day = day_of(date)
    header = find_list(db, day) if day else None
    if header is None or format not in ("xlsx", "csv"):
        trail.record(db, who.key, "risk_list.export", f"{date} {format} (page)", 0,
                     "refused 404")  # fmt: skip
        return missing(request, lang, who, "no_export")
    filters = filters_of(request)
    try:
        rows = list(db.scalars(item_query(who.key, header, filters)))
        rows = with_reasons(scorer, header, rows)
    except OtherCountyError:
        trail.record(db, who.key, "risk_list.export", f"{date} (page)", 0, "refused 404")
        return missing(request, lang, who, "not_found")
    capacity = list_capacity(header, scorer.settings)
    content, media, count = export_file(db, who.key, header, rows, format, lang, filters, capacity)
    trail.record(db, who.key, "risk_list.export", f"{date} {format} (page)", count, "ok")
    name = export_name(header.list_date, who.key, filters, format)
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": attachment(name)},
    )
