"""Reading stored monitoring checks: the latest day's judged checks, a day's all."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, func, select
from sqlalchemy.orm import Session

from earlywarn.serving.monitor.checks import THRESHOLDS, worst
from earlywarn.serving.store import MonitorCheck


def latest_day(db: Session) -> dt.date | None:
    day: dt.date | None = db.scalar(select(func.max(MonitorCheck.day)))
    return day


def latest_judged(db: Session) -> tuple[dt.date | None, list[tuple[str, str, str]]]:
    """The latest monitored day and its checks that have thresholds (check, subject,
    status); informational measures are left out."""
    day = latest_day(db)
    if day is None:
        return None, []
    rows = db.execute(
        select(MonitorCheck.check, MonitorCheck.subject, MonitorCheck.status).where(
            MonitorCheck.day == day, MonitorCheck.check.in_(tuple(THRESHOLDS))
        )
    ).all()
    return day, [(c, s, st) for c, s, st in rows]


def latest_status(db: Session) -> str | None:
    """The latest monitored day's status (the worst of its checks); None before any."""
    _, checks = latest_judged(db)
    return worst([status for _, _, status in checks]) if checks else None


def day_checks(db: Session, day: dt.date) -> list[MonitorCheck]:
    """A day's checks, alerts first, then warnings, then by check and subject."""
    rows = db.scalars(select(MonitorCheck).where(MonitorCheck.day == day)).all()
    order = {"alert": 0, "warn": 1, "ok": 2}
    return sorted(rows, key=lambda c: (order.get(c.status, 3), c.check, c.subject))


def day_statuses(db: Session, last: int = 60) -> list[tuple[dt.date, str, int, int]]:
    """The latest days monitored: day, status, warnings, alerts (newest first)."""
    judged = MonitorCheck.check.in_(tuple(THRESHOLDS))
    rows = db.execute(
        select(
            MonitorCheck.day,
            func.sum((MonitorCheck.status == "warn").cast(Integer)),
            func.sum((MonitorCheck.status == "alert").cast(Integer)),
        )
        .where(judged)
        .group_by(MonitorCheck.day)
        .order_by(MonitorCheck.day.desc())
        .limit(last)
    ).all()
    return [
        (day, "alert" if alerts else "warn" if warns else "ok", int(warns or 0), int(alerts or 0))
        for day, warns, alerts in rows
    ]
