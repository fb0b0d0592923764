"""Stored daily lists: read a page, export the filtered rows, record a review.

(No ``from __future__ import annotations``: FastAPI reads the filters dataclass's
field types from the class itself, which has no module globals to resolve strings.)
"""

import datetime as dt
from dataclasses import dataclass, fields
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from earlywarn.contract.spec import CATEGORIES
from earlywarn.models.steps import STEPS
from earlywarn.serving.access import READERS, REVIEWERS
from earlywarn.serving.audit_trail import AuditTrail
from earlywarn.serving.deps import ERRORS, Caller, Db, ScorerDep, Trail, allow, refuse
from earlywarn.serving.errors import field_error
from earlywarn.serving.list_schemas import (
    ListDay,
    ListItem,
    ListPage,
    ReviewIn,
    ReviewOut,
    StoredList,
    StoredLists,
)
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
    list_item,
    record_review,
    visible_item,
)
from earlywarn.serving.reasons_later import with_reasons
from earlywarn.serving.request_notes import category_code
from earlywarn.serving.store import ApiKey, RiskList

router = APIRouter(tags=["risk lists"])


@dataclass
class ListFilters:
    """Filters of a stored list (query parameters); an office key is held to its county."""

    county: str | None = Query(None, max_length=32)
    township: str | None = Query(None, max_length=32)
    category: str | None = Query(
        None, max_length=32, description="a category code, or its name as offices write it"
    )
    band: str | None = Query(None, pattern="^(high|medium|low)$")
    flag: bool | None = Query(None, description="either target flagged")
    reviewed: bool | None = Query(None, description="reviewed at least once")

    def plain(self) -> Filters:
        asked = {field.name: getattr(self, field.name) for field in fields(self)}
        if self.category is not None:  # 征地补偿 as land_requisition, as the score API reads it
            asked["category"] = category_code(self.category) or self.category
        return Filters(**asked)


QueryFilters = Annotated[ListFilters, Depends()]


def _stored_list(
    trail: AuditTrail, db: Session, key: ApiKey, list_date: dt.date, action: str
) -> RiskList:
    found = find_list(db, list_date)
    if found is None:
        refuse(trail, db, key, action, str(list_date), 404, f"no risk list for {list_date}")
    return found


def _query_names(dependant: Any) -> set[str]:
    """The query parameters a route reads, its dependencies' included."""
    names = {param.alias for param in dependant.query_params}
    for inner in dependant.dependencies:
        names |= _query_names(inner)
    return names


def _given_once(
    request: Request, trail: AuditTrail, db: Session, key: ApiKey, action: str, target: str
) -> None:
    """A parameter given twice (band=high&band=medium) was read as its last value alone,
    and one the route does not know (bnad=high, a typo) was ignored: the whole list
    answered as if filtered. Both refused, named, and audited."""
    twice = sorted({name for name, _ in request.query_params.multi_items()
                    if len(request.query_params.getlist(name)) > 1})  # fmt: skip
    route = request.scope.get("route")
    known = (
        _query_names(route.dependant) if isinstance(route, APIRoute) else set(request.query_params)
    )
    unknown = sorted(set(request.query_params) - known)
    if twice or unknown:
        trail.record(db, key, action, target, 0, "refused 422")
        raise HTTPException(
            422,
            [field_error(["query", name], "given more than once: give it once") for name in twice]
            + [
                field_error(["query", name], f"not a parameter of this route: {sorted(known)}")
                for name in unknown
            ],
        )


def _filtered(
    trail: AuditTrail, db: Session, key: ApiKey, header: RiskList, filters: ListFilters, action: str
) -> Any:
    if filters.category is not None and category_code(filters.category) is None:
        # A category no list holds answered "no cases", as if the filter were right.
        trail.record(db, key, action, f"{header.list_date} category", 0, "refused 422")
        message = f"not a category code or name; one of {sorted(CATEGORIES)}"
        raise HTTPException(422, [field_error(["query", "category"], message)])
    try:
        return item_query(key, header, filters.plain())
    except OtherCountyError as error:
        refuse(
            trail, db, key, action, f"{header.list_date} county {filters.county}", 404, str(error)
        )


@router.get("/v1/risk-lists", response_model=StoredLists, responses=ERRORS)
def stored_lists(
    request: Request,
    key: Caller,
    db: Db,
    trail: Trail,
    limit: int = Query(60, ge=1, le=1000, description="at most this many days, newest first"),
) -> StoredLists:
    """The days that have a stored list, newest first: which dates to ask for."""
    allow(trail, db, key, READERS, "risk_list.days", "risk-lists")
    _given_once(request, trail, db, key, "risk_list.days", "risk-lists")
    headers = db.scalars(select(RiskList).order_by(RiskList.list_date.desc()).limit(limit)).all()
    found = [
        StoredList(list_date=h.list_date, as_of=h.as_of, model_versions=h.model_versions,
                   created_at=h.created_at)
        for h in headers
    ]  # fmt: skip
    trail.answered(db, key, "risk_list.days", "risk-lists", len(found), "ok")
    return StoredLists(lists=found)


@router.get("/v1/risk-lists/{list_date}", response_model=ListPage, responses=ERRORS)
def get_list(
    request: Request,
    list_date: ListDay,
    key: Caller,
    db: Db,
    trail: Trail,
    scorer: ScorerDep,
    filters: QueryFilters,
    page: int = Query(1, ge=1, le=100_000),
    page_size: int = Query(50, ge=1, le=500),
) -> ListPage:
    """A stored daily list, paged and filtered; office keys see their own county only."""
    allow(trail, db, key, READERS, "risk_list.view", str(list_date))
    _given_once(request, trail, db, key, "risk_list.view", str(list_date))
    header = _stored_list(trail, db, key, list_date, "risk_list.view")
    query = _filtered(trail, db, key, header, filters, "risk_list.view")
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = with_reasons(
        scorer, header, db.scalars(query.offset((page - 1) * page_size).limit(page_size)).all()
    )
    latest = latest_reviews(db, list_date, [r.case_id for r in rows])
    items = [
        list_item(r, latest[r.case_id].decision if r.case_id in latest else None) for r in rows
    ]
    trail.answered(db, key, "risk_list.view", f"{list_date} page {page}", len(items), "ok")
    return ListPage(
        list_date=list_date,
        as_of=header.as_of,
        model_versions=header.model_versions,
        total=total,
        page=page,
        page_size=page_size,
        items=items,
    )


@router.get("/v1/risk-lists/{list_date}/export", response_class=Response, responses=ERRORS)
def export_list(
    request: Request,
    list_date: ListDay,
    key: Caller,
    db: Db,
    trail: Trail,
    scorer: ScorerDep,
    filters: QueryFilters,
    format: str = Query("csv", pattern="^(csv|xlsx)$"),
    lang: str = Query("zh", pattern="^(zh|en)$", description="the ledger's language"),
) -> Response:
    """The filtered list as the office's ledger (XLSX) or its columns as CSV."""
    allow(trail, db, key, READERS, "risk_list.export", str(list_date))
    _given_once(request, trail, db, key, "risk_list.export", str(list_date))
    header = _stored_list(trail, db, key, list_date, "risk_list.export")
    rows = with_reasons(
        scorer,
        header,
        db.scalars(_filtered(trail, db, key, header, filters, "risk_list.export")).all(),
    )
    content, media, count = export_file(
        db, key, header, rows, format, "en" if lang == "en" else "zh", filters.plain(),
        list_capacity(header, scorer.settings),
    )  # fmt: skip
    trail.record(db, key, "risk_list.export", f"{list_date} {format}", count, "ok")
    name = export_name(list_date, key, filters.plain(), format)
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": attachment(name)},
    )


@router.get(
    "/v1/risk-lists/{list_date}/cases/{case_id:path}", response_model=ListItem, responses=ERRORS
)
def list_row(
    request: Request, list_date: ListDay, case_id: str, key: Caller, db: Db, trail: Trail,
    scorer: ScorerDep,
) -> ListItem:  # fmt: skip
    """One case's row of a stored list, with its reasons and steps (computed on demand
    for a row the list did not explain, as the page does) and its latest review."""
    target = f"{list_date}/{case_id}"
    allow(trail, db, key, READERS, "risk_list.view", target)
    _given_once(request, trail, db, key, "risk_list.view", target)
    header = _stored_list(trail, db, key, list_date, "risk_list.view")
    found = visible_item(db, key, header, case_id)
    if found is None:
        message = "the case is not on this day's list of this key"
        refuse(trail, db, key, "risk_list.view", target, 404, message)
    row = with_reasons(scorer, header, [found])[0]
    latest = latest_reviews(db, list_date, [case_id]).get(case_id)
    trail.answered(db, key, "risk_list.view", target, 1, "ok")
    return list_item(row, latest.decision if latest else None)


@router.post(
    "/v1/risk-lists/{list_date}/cases/{case_id:path}/review",
    response_model=ReviewOut,
    responses=ERRORS,
)
def review(
    list_date: ListDay, case_id: str, body: ReviewIn, key: Caller, db: Db, trail: Trail
) -> ReviewOut:
    """Record the reviewer's decision on a case of the day's list."""
    allow(trail, db, key, REVIEWERS, "review", f"{list_date}/{case_id}")
    header = _stored_list(trail, db, key, list_date, "review")
    if visible_item(db, key, header, case_id) is None:
        message = "the case is not on this day's list of this key"
        refuse(trail, db, key, "review", f"{list_date}/{case_id}", 404, message)
    if body.step is not None and body.step not in STEPS:
        trail.record(db, key, "review", f"{list_date}/{case_id}", 0, "refused 422")
        detail = [field_error(["body", "step"], f"unknown step; one of {sorted(STEPS)}")]
        raise HTTPException(422, detail)
    saved = record_review(trail, db, key, list_date, case_id, body)
    return ReviewOut(
        list_date=list_date,
        case_id=case_id,
        decision=saved.decision,
        step=saved.step,
        reason=saved.reason,
        created_at=saved.created_at,
    )
