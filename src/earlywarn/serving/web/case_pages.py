"""The office page's case view (timeline, contributions, score history, review) and trends."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from earlywarn.models.steps import STEPS
from earlywarn.serving.access import REVIEWERS
from earlywarn.serving.deps import Db, ScorerDep, Trail
from earlywarn.serving.list_schemas import ReviewIn
from earlywarn.serving.lists import find_list, list_dates, record_review, visible_item
from earlywarn.serving.reasons_later import with_reasons
from earlywarn.serving.roles import Role
from earlywarn.serving.scorer import Scorer
from earlywarn.serving.store import ApiKey, Review, RiskList, RiskListItem
from earlywarn.serving.web import i18n, views
from earlywarn.serving.web.deps import (
    Lang,
    Viewer,
    chosen_day,
    day_of,
    missing,
    optional,
    refused,
    render,
)
from earlywarn.serving.web.sessions import SignedIn, csrf_ok
from earlywarn.serving.web.trends_view import trends_context

router = APIRouter(prefix="/office", include_in_schema=False)


def _item_on(db: Session, who: SignedIn, day: dt.date, case_id: str) -> RiskListItem | None:
    header = find_list(db, day)
    return visible_item(db, who.key, header, case_id) if header else None


@router.get("/cases/{case_id:path}")
def case_address(case_id: str, date: str | None = None) -> RedirectResponse:
    """The older address of a case page: the case id now travels as a query value, so
    that any id (one holding ``/`` or made of dots) stays inside the page."""
    query = {"id": case_id} | ({"date": date} if date else {})
    return RedirectResponse("/office/case?" + urlencode(query), status_code=303)


def _review_of(decision: str, step: str, reason: str) -> ReviewIn | str:
    """The review a form holds, or the word of ``page_words.WORDS`` for its first problem
    (pydantic's own message is English, and names no field a reader sees)."""
    try:
        body = ReviewIn(decision=decision, step=optional(step), reason=optional(reason))  # type: ignore[arg-type]
    except ValidationError as error:
        loc = error.errors()[0]["loc"]
        field = loc[0] if loc else None
        if field in ("decision", "step"):
            return f"review_{field}"
        if field == "reason":  # a control character, or too long
            return "review_text"
        # The rule across fields: action_taken needs its step, dismissed its reason.
        return "review_step" if decision == "action_taken" else "review_reason"
    return "review_step" if body.step is not None and body.step not in STEPS else body


@router.get("/case", response_class=HTMLResponse)
def case_page(
    request: Request,
    db: Db,
    trail: Trail,
    scorer: ScorerDep,
    lang: Lang,
    who: Viewer,
    case_id: Annotated[str, Query(alias="id", max_length=200)],
    date: str | None = None,
    back: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    day = chosen_day(db, date)
    item = _item_on(db, who, day, case_id) if day else None
    if item is None or day is None:
        trail.record(db, who.key, "web.case.view", f"{date}/{case_id}", 0, "refused 404")
        held = _lists_holding(db, who, case_id)
        if not held:
            return missing(request, lang, who, "not_found")
        # A bookmark to a case that has left the list: the lists that held it, not a
        # "not found" that reads as a fault or a permission refused.
        return render(request, "message.html", lang, 404, who=who,
                      message=i18n.word("case_not_that_day", lang), case_id=case_id,
                      held=held)  # fmt: skip
    header = find_list(db, day)
    assert header is not None
    item = with_reasons(scorer, header, [item])[0]
    context = views.case_context(db, scorer, item, header, lang)
    trail.record(db, who.key, "web.case.view", f"{day}/{case_id}", 1, "ok")
    return render(
        request, "case.html", lang, who=who, day=day, item=item, header=header,
        steps=STEPS, can_review=Role(who.key.role) in REVIEWERS,
        saved=request.query_params.get("saved") == "1", error=None,
        back=back, list_link=views.list_address(back, day),
        **_reviews_so_far(db, day, case_id, lang), **context,
    )  # fmt: skip


def _lists_holding(db: Session, who: SignedIn, case_id: str) -> list[dt.date]:
    """The newest days whose list holds the case, as this key may see it."""
    query = (
        select(RiskList.list_date)
        .join(RiskListItem, RiskListItem.list_id == RiskList.id)
        .where(RiskListItem.case_id == case_id)
    )
    if Role(who.key.role) is Role.OFFICE:
        query = query.where(RiskListItem.county_code == who.key.county_code)
    return list(db.scalars(query.order_by(RiskList.list_date.desc()).limit(5)))


def _reviews_so_far(db: Session, day: dt.date, case_id: str, lang: i18n.Language) -> dict[str, Any]:
    """The case's reviews on every list (a case reviewed yesterday and listed again today
    says so; an older list's page shows what was done since), each with the key it was
    recorded with
    (its role and prefix: a key names no person), so that two people's answers are told
    apart; and whether a newer list than the day's exists, for the form to say where a
    review will be recorded."""
    reviews = db.scalars(select(Review).where(Review.case_id == case_id).order_by(Review.id)).all()
    newest = list_dates(db, 1)
    keys = {
        key.id: key
        for key in db.scalars(select(ApiKey).where(ApiKey.id.in_({r.key_id for r in reviews})))
    }
    reviewers = {
        key_id: f"{i18n.label(i18n.ROLE, key.role, lang)} {key.prefix}"
        for key_id, key in keys.items()
    }
    newer = newest[0] if newest and newest[0] > day else None
    return {"reviews": reviews, "reviewers": reviewers, "newer_list": newer}


@router.post("/case/review", response_class=HTMLResponse)
def review_submit(
    request: Request,
    db: Db,
    trail: Trail,
    scorer: ScorerDep,
    lang: Lang,
    who: Viewer,
    case_id: Annotated[str, Form(max_length=200)],
    date: Annotated[str, Form()],
    decision: Annotated[str, Form()] = "",
    step: Annotated[str, Form()] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    back: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    day = day_of(date)
    item = _item_on(db, who, day, case_id) if day else None
    if item is None or day is None:
        trail.record(db, who.key, "review", f"{date}/{case_id}", 0, "refused 404")
        return missing(request, lang, who, "not_found")
    if Role(who.key.role) not in REVIEWERS:
        trail.record(db, who.key, "review", f"{day}/{case_id}", 0, "refused 403")
        return refused(request, lang, who, 403, "may_not_review")
    entered = {"decision": decision, "step": step, "reason": reason}
    if not csrf_ok(who.session, csrf):
        # A form of an earlier sign-in (a second tab, a sign-in again): the form again with
        # what was entered and this session's token, not a page that loses the text.
        trail.record(db, who.key, "review", f"{day}/{case_id}", 0, "refused 403")
        return _form_again(request, db, scorer, lang, who, item, back, entered, "form_renewed")
    # The form offers the recommended step preselected; it is the step taken only when
    # the reviewer says an action was taken.
    body = _review_of(decision, step if decision == "action_taken" else "", reason)
    if isinstance(body, str):
        trail.record(db, who.key, "review", f"{day}/{case_id}", 0, "refused 422")
        return _form_again(request, db, scorer, lang, who, item, back, entered, body)
    record_review(trail, db, who.key, day, case_id, body)
    target = "/office/case?" + urlencode(
        {"id": case_id, "date": day.isoformat(), "saved": 1} | ({"back": back} if back else {})
    )
    return RedirectResponse(target, status_code=303)


# The form's field each refusal concerns: focused and described by the message.
_FIELD_OF = {"review_decision": "decision", "review_step": "step", "review_reason": "reason",
             "review_text": "reason"}  # fmt: skip


def _form_again(
    request: Request,
    db: Session,
    scorer: Scorer,
    lang: i18n.Language,
    who: SignedIn,
    item: RiskListItem,
    back: str,
    entered: dict[str, str],
    problem: str,
) -> Response:
    """The case page again with the review form as it was sent and what is wrong with it
    (the browser lands on the form: its action ends in ``#review``)."""
    header = db.get(RiskList, item.list_id)
    assert header is not None
    day = header.list_date
    item = with_reasons(scorer, header, [item])[0]
    status = 403 if problem == "form_renewed" else 422
    return render(
        request, "case.html", lang, status, who=who, day=day, item=item, header=header,
        steps=STEPS, can_review=True, saved=False, error=i18n.word(problem, lang),
        error_field=_FIELD_OF.get(problem), back=back, list_link=views.list_address(back, day),
        # What the reviewer entered stays (a form reset to a default decision was
        # submitted again as that decision).
        form=entered, **_reviews_so_far(db, day, item.case_id, lang),
        **views.case_context(db, scorer, item, header, lang),
    )  # fmt: skip


@router.get("/trends", response_class=HTMLResponse)
def trends_page(
    request: Request,
    db: Db,
    trail: Trail,
    scorer: ScorerDep,
    lang: Lang,
    who: Viewer,
    category: str | None = None,
) -> Response:
    chosen = category if category in i18n.CATEGORY else None
    context = trends_context(db, scorer, who, chosen, lang)
    trail.record(db, who.key, "web.trends.view", who.key.county_code or "all", 0, "ok")
    return render(request, "trends.html", lang, who=who, **context)
