"""Reading stored monitoring checks: the latest day's judged checks, a day's all."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from earlywarn.serving.monitor.checks import THRESHOLDS
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
