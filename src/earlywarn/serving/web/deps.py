"""What the office page's routes share: the signed-in viewer, the language, rendering."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from earlywarn.serving.access import MONITOR_READERS
from earlywarn.serving.deps import Db
from earlywarn.serving.lists import SORTABLE, Filters, list_dates
from earlywarn.serving.monitor.store import latest_status
from earlywarn.serving.roles import Role
from earlywarn.serving.web import i18n, views
from earlywarn.serving.web.sessions import COOKIE, LANGUAGE_COOKIE, SignedIn, signed_in

HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")


class NotSignedInError(Exception):
    """Answered by a redirect to the sign-in page (see ``serving.app``)."""


def language(request: Request) -> i18n.Language:
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    return "en" if chosen == "en" else "zh"


def viewer(request: Request, db: Db) -> SignedIn:
    found = signed_in(db, request.cookies.get(COOKIE))
    if found is None:
        raise NotSignedInError()
    if Role(found.key.role) in MONITOR_READERS:  # the header shows a monitoring alert
        return replace(found, monitor_status=latest_status(db))
    return found


def safe_back(path: str | None) -> str | None:
    """A page of this site to return to (never another site, nor the sign-in itself)."""
    if not path or not path.startswith("/office/") or "//" in path or "\\" in path:
        return None
    return None if path.startswith(("/office/sign-in", "/office/sign-out")) else path


def sign_in_address(request: Request) -> str:
    """Where a request without a valid session is sent: the sign-in page, with the page
    to return to (a form posted: the page it was on) and whether a session had ended
    (a form posted then was not saved, and the page says so)."""
    if request.method == "GET":
        here = views.page_address(request)
    else:
        came_from = urlsplit(request.headers.get("referer", ""))
        same_host = came_from.netloc.lower() == request.headers.get("host", "").lower()
        own = urlencode(
            [(k, v) for k, v in parse_qsl(came_from.query) if k in views.PAGE_PARAMETERS]
        )
        here = came_from.path + (f"?{own}" if own else "") if same_host else ""
    query = {"next": safe_back(here)} if safe_back(here) else {}
    if COOKIE in request.cookies:
        query["ended"] = "1" if request.method == "GET" else "unsaved"
    return "/office/sign-in" + (f"?{urlencode(query)}" if query else "")


Lang = Annotated[i18n.Language, Depends(language)]
Viewer = Annotated[SignedIn, Depends(viewer)]


def render(
    request: Request, name: str, lang: i18n.Language, status: int = 200, **context: Any
) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request, name, views.page_context(request, lang) | context, status_code=status
    )


def refused(
    request: Request, lang: i18n.Language, who: SignedIn, status: int, message: str
) -> Response:
    """A refusal on the page, in its language: ``message`` is a word of ``page_words.WORDS``."""
    return render(request, "message.html", lang, status, who=who, message=i18n.word(message, lang))


def missing(request: Request, lang: i18n.Language, who: SignedIn, message: str) -> Response:
    return refused(request, lang, who, 404, message)


def optional(value: str | None) -> str | None:
    return value or None


def day_of(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def filters_of(request: Request) -> Filters:
    asked = request.query_params
    return Filters(
        county=optional(asked.get("county")),
        township=optional(asked.get("township")),
        category=optional(asked.get("category")),
        band=asked.get("band") if asked.get("band") in i18n.BAND else None,
        flag=_yes_no(asked.get("flag")),
        reviewed=_yes_no(asked.get("reviewed")),
        sort=asked.get("sort") or "rank",
        descending=asked.get("sort") in i18n.TARGET,  # a probability: riskiest first
    )


def odd_parameters(request: Request) -> list[str]:
    """The list's parameters whose values the page does not know (``band=purple``),
    as written: the page says it ignored them rather than answer as if unasked."""
    asked = request.query_params
    known = {
        "band": i18n.BAND, "flag": ("yes", "no"), "reviewed": ("yes", "no"),
        "sort": SORTABLE, "category": i18n.CATEGORY,
    }  # fmt: skip
    return [
        f"{name}={asked[name]}"
        for name, values in known.items()
        if asked.get(name) and asked[name] not in values
    ]


def chosen_day(db: Session, day: str | None) -> dt.date | None:
    """The day asked for, or the newest list's."""
    if day:
        return day_of(day)
    days = list_dates(db, 1)
    return days[0] if days else None
