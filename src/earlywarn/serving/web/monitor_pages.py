"""The monitoring page (模型监测), for analysts and admins: a day's verdict and checks,
and the days before."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from earlywarn.serving.access import MONITOR_READERS
from earlywarn.serving.deps import Db, Trail
from earlywarn.serving.monitor.store import day_checks, day_statuses, latest_day
from earlywarn.serving.roles import Role
from earlywarn.serving.web import i18n, monitor_words
from earlywarn.serving.web.deps import Lang, Viewer, day_of, render
from earlywarn.serving.web.monitor_view import monitor_context

router = APIRouter(prefix="/office", include_in_schema=False)


@router.get("/monitor", response_class=HTMLResponse)
def monitor_page(
    request: Request, db: Db, trail: Trail, lang: Lang, who: Viewer, date: str | None = None
) -> Response:
    if Role(who.key.role) not in MONITOR_READERS:
        trail.record(db, who.key, "web.monitor.view", "-", 0, "refused 403")
        message = i18n.word("analysts_only", lang)
        return render(request, "message.html", lang, 403, who=who, message=message)
    day = day_of(date) or latest_day(db)
    checks = day_checks(db, day) if day else []
    trail.record(db, who.key, "web.monitor.view", str(day or "-"), len(checks), "ok")
    shown = monitor_context(checks, day, lang) if day else {}
    return render(
        request, "monitor.html", lang, who=who, day=day, days=day_statuses(db),
        w=lambda key, **values: monitor_words.word(key, lang, **values),
        kind=lambda key: i18n.label(monitor_words.KIND, key, lang), **shown,
    )  # fmt: skip
