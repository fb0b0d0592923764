"""Reading a stored daily list: its filters, the county a key is held to, review states.

Shared by the JSON API and the office page, so that both show the same rows.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import polars as pl
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from earlywarn.contract.personal import echoed_text, redact_text
from earlywarn.models.capacity import Capacity
from earlywarn.models.reasons import Language, from_json
from earlywarn.models.steps import from_json as steps_from_json
from earlywarn.serving.audit_trail import AuditTrail
from earlywarn.serving.ledger import LedgerInfo, ledger_csv, ledger_xlsx
from earlywarn.serving.list_changes import change_words
from earlywarn.serving.list_schemas import ListChange, ListItem, ReviewIn
from earlywarn.serving.roles import Role
from earlywarn.serving.schemas import reason_out, step_out
from earlywarn.serving.store import (
    ITEM_COLUMNS,
    ApiKey,
    Review,
    RiskList,
    RiskListItem,
    utc_now,
)
from earlywarn.settings import Settings

SORTABLE = {
    "rank": RiskListItem.rank,
    "escalation": RiskListItem.escalation_probability,
    "collective": RiskListItem.collective_probability,
    "days": RiskListItem.days_since_last_contact,
}


class OtherCountyError(LookupError):
    """An office key asked for another county: answered as not found."""


@dataclass
class Filters:
    county: str | None = None
    township: str | None = None
    category: str | None = None
    band: str | None = None
    flag: bool | None = None
    reviewed: bool | None = None
    sort: str = "rank"
    descending: bool = False


def find_list(db: Session, list_date: dt.date) -> RiskList | None:
    return db.scalars(select(RiskList).where(RiskList.list_date == list_date)).first()


def list_dates(db: Session, limit: int = 400) -> list[dt.date]:
    """The days that have a stored list, newest first."""
    return list(
        db.scalars(select(RiskList.list_date).order_by(RiskList.list_date.desc()).limit(limit))
    )


def county_of(key: ApiKey, asked: str | None) -> str | None:
    """The county a query is held to: an office key's own, whatever it asks for."""
    if Role(key.role) is Role.OFFICE:
        if asked and asked != key.county_code:
            # Echoed as messages echo a value: an ID number typed as the county is not.
            raise OtherCountyError(f"no list of county {echoed_text(asked)} for this key")
        return key.county_code
    return asked


def item_query(key: ApiKey, header: RiskList, filters: Filters) -> Select[Any]:
    """The list's rows this key may see, filtered and sorted."""
    query = select(RiskListItem).where(RiskListItem.list_id == header.id)
    county = county_of(key, filters.county)
    if county:
        query = query.where(RiskListItem.county_code == county)
    if filters.township:
        query = query.where(RiskListItem.township_code == filters.township)
    if filters.category:
        query = query.where(RiskListItem.category == filters.category)
    if filters.band:
        query = query.where(RiskListItem.risk_band == filters.band)
    if filters.flag is not None:
        either = RiskListItem.escalation_flag | RiskListItem.collective_flag
        query = query.where(either if filters.flag else ~either)
    if filters.reviewed is not None:
        reviewed_cases = select(Review.case_id).where(Review.list_date == header.list_date)
        inside = RiskListItem.case_id.in_(reviewed_cases)
        query = query.where(inside if filters.reviewed else ~inside)
    column = SORTABLE.get(filters.sort, RiskListItem.rank)
    ordered = column.desc().nulls_last() if filters.descending else column.asc().nulls_last()
    return query.order_by(ordered, RiskListItem.rank)


def visible_item(db: Session, key: ApiKey, header: RiskList, case_id: str) -> RiskListItem | None:
    """The case's row on this list, or None when absent or of another county for an
    office key (both answered as not found)."""
    item = db.scalars(
        select(RiskListItem).where(
            RiskListItem.list_id == header.id, RiskListItem.case_id == case_id
        )
    ).first()
    if item is None or (Role(key.role) is Role.OFFICE and item.county_code != key.county_code):
        return None
    return item


def latest_reviews(
    db: Session, list_date: dt.date, case_ids: list[str], earlier: bool = False
) -> dict[str, Review]:
    """The newest review of each of these cases on that day's list, or (``earlier``) on
    the lists before it: a case reviewed yesterday and listed again today."""
    on_day = Review.list_date < list_date if earlier else Review.list_date == list_date
    latest: dict[str, Review] = {}
    for review in db.scalars(
        select(Review).where(on_day, Review.case_id.in_(case_ids)).order_by(Review.id)
    ):
        latest[review.case_id] = review
    return latest


# A review equal to the same key's last one on the case within this long is the same
# review sent twice (a double tap on a slow phone, a client's retry after a timeout).
REPEAT_WINDOW = dt.timedelta(minutes=10)


def save_review(
    db: Session, key: ApiKey, list_date: dt.date, case_id: str, body: ReviewIn
) -> tuple[Review, bool]:
    """The review stored, and whether it is new: the same review sent again within
    ``REPEAT_WINDOW`` is the one already stored, not a second record."""
    # Free text, like a case's summary: ID and phone numbers never reach the store.
    reason = redact_text(body.reason) if body.reason else None
    # The case's latest review on this list, by any key: a repeat is this key's review
    # again with none between (after another key's, it is a decision again, not a repeat).
    last = db.scalars(
        select(Review)
        .where(Review.case_id == case_id, Review.list_date == list_date)
        .order_by(Review.id.desc())
        .limit(1)
    ).first()
    same = last is not None and (last.key_id, last.decision, last.step, last.reason) == (
        key.id,
        body.decision,
        body.step,
        reason,
    )
    if last is not None and same and utc_now() - last.created_at < REPEAT_WINDOW:
        return last, False
    saved = Review(
        list_date=list_date,
        case_id=case_id,
        decision=body.decision,
        step=body.step,
        reason=reason,
        key_id=key.id,
    )
    db.add(saved)
    db.flush()
    return saved, True


def record_review(
    trail: AuditTrail, db: Session, key: ApiKey, list_date: dt.date, case_id: str, body: ReviewIn
) -> Review:
    """``save_review`` and its audit record, written together in the trail's turn, one
    review at a time (the API's and the page's way alike)."""
    with trail.writing():
        saved, new = save_review(db, key, list_date, case_id, body)
        said = body.decision if new else f"{body.decision} (sent again: the review {saved.id} kept)"
        trail.record(db, key, "review", f"{list_date}/{case_id}", int(new), said)
    return saved


def change_out(text: str | None) -> ListChange | None:
    change = json.loads(text or "{}")
    if not change:
        return None
    return ListChange(**change, text_zh=change_words(text, "zh"), text_en=change_words(text, "en"))


def list_item(row: RiskListItem, review: str | None) -> ListItem:
    """A stored row as the API answers it: reasons and steps as data, with their labels."""
    return ListItem(
        rank=row.rank,
        case_id=row.case_id,
        county_code=row.county_code,
        township_code=row.township_code,
        category=row.category,
        escalation_probability=row.escalation_probability,
        collective_probability=row.collective_probability,
        escalation_flag=row.escalation_flag,
        collective_flag=row.collective_flag,
        risk_band=row.risk_band,
        reasons=[reason_out(r) for r in from_json(row.reasons)],
        recommended_steps=[step_out(step) for step in steps_from_json(row.steps)],
        days_since_last_contact=row.days_since_last_contact,
        review=review,
        changes=change_out(row.changes),
    )


XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


ITEM_SCHEMA: dict[str, pl.DataType] = {name: pl.String() for name in [*ITEM_COLUMNS, "review"]} | {
    "rank": pl.Int64(),
    "escalation_probability": pl.Float64(),
    "collective_probability": pl.Float64(),
    "escalation_flag": pl.Boolean(),
    "collective_flag": pl.Boolean(),
    "days_since_last_contact": pl.Float64(),
}


def export_file(
    db: Session,
    key: ApiKey,
    header: RiskList,
    rows: list[RiskListItem],
    file_format: str,
    lang: Language = "zh",
    filters: Filters | None = None,
    capacity: int | None = None,
) -> tuple[bytes, str, int]:
    """The rows with their latest review as the ledger, XLSX or CSV: content, media
    type, rows. The workbook's title names the county: the key's, else the one the
    rows were filtered to (an analyst's county export was titled 全部县区); its
    subtitle names the other filters."""
    filters = filters or Filters()
    decisions = {
        review.case_id: review.decision
        for review in db.scalars(
            select(Review).where(Review.list_date == header.list_date).order_by(Review.id)
        )
    }  # a day's reviews are few: read them all rather than ask for every row
    frame = pl.DataFrame(
        [{c: getattr(r, c) for c in ITEM_COLUMNS} | {"review": decisions.get(r.case_id)}
         for r in rows],
        schema=ITEM_SCHEMA,
    )  # fmt: skip
    if file_format == "csv":
        return ledger_csv(frame, lang, capacity), "text/csv; charset=utf-8", frame.height
    county = key.county_code if Role(key.role) is Role.OFFICE else filters.county
    info = LedgerInfo(
        header.list_date, header.as_of, header.model_versions, county, narrowing(filters),
        capacity,
    )  # fmt: skip
    return ledger_xlsx(frame, info, lang), XLSX_MEDIA, frame.height


def list_capacity(header: RiskList, settings: Settings) -> int:
    """The rows of a day's work the list was made with (the setting's, for a list stored
    before migration 0009 kept it)."""
    if header.capacity is not None:
        return header.capacity
    return Capacity(settings.capacity_share, settings.capacity_minimum).at(header.rows)


def narrowing(filters: Filters) -> tuple[tuple[str, object], ...]:
    """The filters that leave rows out besides the county, as (name, value)."""
    names = ("township", "category", "band", "flag", "reviewed")
    return tuple((n, getattr(filters, n)) for n in names if getattr(filters, n) is not None)


def export_name(list_date: dt.date, key: ApiKey, filters: Filters, file_format: str) -> str:
    """risk-list-2025-06-01.xlsx for the whole list; the county (an office key's own, or
    the one asked for) and "-filtered" in the name of a part of it, so that two exports
    of one day saved side by side are told apart."""
    parts = [f"risk-list-{list_date.isoformat()}"]
    county = key.county_code if Role(key.role) is Role.OFFICE else filters.county
    if county:  # an office's file holds its county's rows only: said in its name too
        # Letters and digits of any script (鄞州区 as well as 330211), nothing else.
        parts.append("".join(ch for ch in county if ch.isalnum()))
    if narrowing(filters):
        parts.append("filtered")
    return "-".join(p for p in parts if p) + f".{file_format}"


def attachment(name: str) -> str:
    """A ``Content-Disposition`` for a file name that may hold Chinese: an ASCII name
    for old clients and the whole name by RFC 6266 (a county written 鄞州区 vanished
    from the name, which then passed for the whole list's)."""
    plain = "".join(ch if ch.isascii() else "_" for ch in name)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name)}"
