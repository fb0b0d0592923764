"""Reading stored monitoring checks: the latest day's judged checks, a day's all.

A day's status is the worst of its judged checks about the model and the data; the
backlog's checks (the age of the open cases) are exported and shown, but do not set
it, and a check stored without a value was not judged (docs/monitoring.md).
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import ColumnElement, and_, case, func, not_, or_, select
from sqlalchemy.orm import Session

from earlywarn.serving.monitor.checks import AGE_CLOCKS, JUDGED, Check, worst
from earlywarn.serving.store import MonitorCheck


def _judged() -> ColumnElement[bool]:
    return and_(MonitorCheck.check.in_(JUDGED), MonitorCheck.value.is_not(None))


def _backlog() -> ColumnElement[bool]:
    """The backlog's checks, and the age clocks of days stored before they had their own."""
    return or_(
        MonitorCheck.check == "backlog_psi",
        and_(MonitorCheck.check == "input_psi", MonitorCheck.subject.in_(AGE_CLOCKS)),
    )


def latest_day(db: Session) -> dt.date | None:
    day: dt.date | None = db.scalar(select(func.max(MonitorCheck.day)))
    return day


def latest_judged(db: Session) -> tuple[dt.date | None, list[tuple[str, str, str]]]:
    """The latest monitored day and its judged checks (check, subject, status): the
    backlog's among them, the measures and the checks not judged yet left out."""
    day = latest_day(db)
    if day is None:
        return None, []
    rows = db.execute(
        select(MonitorCheck.check, MonitorCheck.subject, MonitorCheck.status).where(
            MonitorCheck.day == day, _judged()
        )
    ).all()
    return day, [(c, s, st) for c, s, st in rows]


def latest_status(db: Session) -> str | None:
    """The latest monitored day's status (the worst of its model and data checks); None
    before any."""
    day = latest_day(db)
    if day is None:
        return None
    statuses = db.scalars(
        select(MonitorCheck.status).where(MonitorCheck.day == day, _judged(), not_(_backlog()))
    ).all()
    return worst(list(statuses))


def day_checks(db: Session, day: dt.date) -> list[MonitorCheck]:
    """A day's checks, alerts first, then warnings, then by check and subject."""
    rows = db.scalars(select(MonitorCheck).where(MonitorCheck.day == day)).all()
    order = {"alert": 0, "warn": 1, "ok": 2}
    return sorted(rows, key=lambda c: (order.get(c.status, 3), c.check, c.subject))


def as_check(row: MonitorCheck) -> Check:
    """A stored row as a ``Check`` (its detail read back; an unreadable one is empty)."""
    try:
        detail = json.loads(row.detail or "{}")
    except ValueError:
        detail = {}
    return Check(row.check, row.subject, row.value, row.status,
                 detail if isinstance(detail, dict) else {})  # fmt: skip


def day_statuses(db: Session, last: int = 60) -> list[tuple[dt.date, str, int, int]]:
    """The latest days monitored: day, status, warnings, alerts of the model's and the
    data's checks (newest first)."""
    counted = and_(_judged(), not_(_backlog()))
    rows = db.execute(
        select(
            MonitorCheck.day,
            func.sum(case((and_(counted, MonitorCheck.status == "warn"), 1), else_=0)),
            func.sum(case((and_(counted, MonitorCheck.status == "alert"), 1), else_=0)),
        )
        .group_by(MonitorCheck.day)
        .order_by(MonitorCheck.day.desc())
        .limit(last)
    ).all()
    return [
        (day, "alert" if alerts else "warn" if warns else "ok", int(warns or 0), int(alerts or 0))
        for day, warns, alerts in rows
    ]
