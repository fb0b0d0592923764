"""What the templates show: rows, a case's charts, the trends, in the chosen language."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from earlywarn.contract.rules import DEFAULT_HORIZON_DAYS, office_now
from earlywarn.contract.spec import LEVELS
from earlywarn.models.reasons import Reason, describe, from_json, shown_value
from earlywarn.models.steps import Step
from earlywarn.models.steps import from_json as steps_from_json
from earlywarn.serving.list_changes import change_words
from earlywarn.serving.lists import list_capacity
from earlywarn.serving.scorer import Scorer
from earlywarn.serving.store import Review, RiskList, RiskListItem
from earlywarn.serving.web import charts, i18n
from earlywarn.serving.web.casefile import case_file, score_request, sensitive_periods
from earlywarn.serving.web.trends_view import table_words
from earlywarn.settings import Settings

HISTORY_DAYS = 365  # how far back the timeline starts, at most


def page_context(request: Request, lang: i18n.Language) -> dict[str, Any]:
    def t(key: str, **values: object) -> str:
        return i18n.word(key, lang, **values)

    here = page_address(request)
    return {
        "lang": lang,
        "other_lang": "en" if lang == "zh" else "zh",
        "here": here,
        "t": t,
        "label": lambda table, key: i18n.label(getattr(i18n, table), key, lang),
        "date_text": lambda day: i18n.date_text(day, lang),
        "moment_text": lambda moment: i18n.moment_text(moment, lang),
        "as_of_text": lambda moment: i18n.as_of_text(moment, lang),
        "recorded_text": lambda moment: i18n.recorded_text(moment, lang),
        "percent": i18n.percent,
        "number": i18n.number,
        "whole_days": i18n.whole_days,
        "step_text": lambda step: (step if isinstance(step, Step) else Step(step)).text(lang),
    }


def workload(
    db: Session, header: RiskList, settings: Settings, county: str | None
) -> dict[str, int]:
    """What the list asks of the office today: its capacity (the first ranks of the whole
    list), those of them and the high-band cases the key sees (its county's, if it has
    one), and the list's age in days, counted in the office's time."""
    capacity = list_capacity(header, settings)
    seen = select(func.count()).select_from(RiskListItem).where(RiskListItem.list_id == header.id)
    seen = seen.where(*([RiskListItem.county_code == county] if county else []))
    high = db.scalar(seen.where(RiskListItem.risk_band == "high")) or 0
    todays = db.scalar(seen.where(RiskListItem.rank <= capacity)) or 0
    age = (office_now().date() - header.list_date).days
    return {"capacity": capacity, "todays": todays, "high": high, "age_days": age}


LIST_PARAMETERS = (
    "date",
    "county",
    "township",
    "category",
    "band",
    "flag",
    "reviewed",
    "sort",
    "page",
    "size",
)


def list_address(back: str | None, day: dt.date) -> str:
    """The list a case was opened from, with its filters, sorting and page (``back`` is
    that list's query string); only the list's own parameters are kept, so that the
    link cannot lead anywhere else."""
    kept = [(k, v) for k, v in parse_qsl(back or "") if k in LIST_PARAMETERS and k != "date"]
    return "/office/list?" + urlencode([("date", day.isoformat()), *kept])


# What a page's address may carry into the links it makes (a case's id and the list it
# was opened from besides the list's own): an unknown parameter of 60 KB was copied
# into every row's link, a 12 MB page for a short address, and a key put in the address
# into the sign-in page's.
PAGE_PARAMETERS = frozenset({*LIST_PARAMETERS, "id", "back"})


def query_without(request: Request, *names: str) -> str:
    """The current query string, its own parameters only, without some of them (for
    paging and export links)."""
    kept = [
        (k, v)
        for k, v in request.query_params.multi_items()
        if k in PAGE_PARAMETERS and k not in names and v
    ]
    return urlencode(kept)


def page_address(request: Request) -> str:
    """This page's address with its own parameters only."""
    query = query_without(request)
    return request.url.path + (f"?{query}" if query else "")


@dataclass(frozen=True)
class Row:
    item: RiskListItem
    reasons: list[str]
    steps: list[Step]
    review: str | None
    changes: list[str]
    earlier: Review | None = None  # the newest review on an earlier list, if none today


def notices(lang: i18n.Language, odd_date: str | None, odd: list[str]) -> list[str]:
    """What the list page says it did not use of the address."""
    said = [i18n.word("odd_date", lang, date=odd_date)] if odd_date else []
    if odd:
        said.append(i18n.word("odd_parameters", lang, names=", ".join(odd)))
    return said


def compared_with(items: list[RiskListItem], lang: i18n.Language) -> str | None:
    """The earlier list the change column compares with, in words (one for the list);
    for listed rows that compared with none (the first list, or one built before any
    earlier list was stored), that it had none."""
    for item in items:
        since = json.loads(item.changes or "{}").get("since")
        if since:
            day = i18n.date_text(dt.date.fromisoformat(since), lang)
            return i18n.word("changes_since", lang, date=day)
    listed = any(item.risk_band != "low" for item in items)
    return i18n.word("no_earlier_list", lang) if listed else None


def reasons_in(text: str, lang: i18n.Language) -> list[str]:
    """A stored row's reasons (JSON) as sentences in the page's language."""
    return [describe(reason, lang) for reason in from_json(text)]


def steps_in(item: RiskListItem) -> list[Step]:
    return steps_from_json(item.steps)


def list_row(
    item: RiskListItem, review: Review | None, lang: i18n.Language, earlier: Review | None = None
) -> Row:
    return Row(
        item,
        reasons_in(item.reasons, lang),
        steps_in(item),
        review.decision if review else None,
        change_words(item.changes, lang),
        earlier,
    )


def case_context(
    db: Session, scorer: Scorer, item: RiskListItem, header: RiskList, lang: i18n.Language
) -> dict[str, Any]:
    """The case's timeline, what moved its scores, and its scores on earlier lists."""
    history = db.execute(
        select(RiskList.list_date, RiskListItem.escalation_probability,
               RiskListItem.collective_probability)
        .join(RiskList, RiskListItem.list_id == RiskList.id)
        .where(RiskListItem.case_id == item.case_id)
        .order_by(RiskList.list_date)
    ).all()  # fmt: skip
    history_chart = charts.lines(
        {
            i18n.label(i18n.TARGET, "escalation", lang): [(d, e) for d, e, _ in history],
            i18n.label(i18n.TARGET, "collective", lang): [(d, c) for d, _, c in history],
        },
        i18n.word("history", lang),
        value_text="{:.0%}",
        day_text=lambda day: i18n.date_text(day, lang),
        words=table_words(lang),
    )
    context: dict[str, Any] = {
        "history_chart": history_chart,
        "reasons": reasons_in(item.reasons, lang),
        "row_steps": steps_in(item),
        "changes": change_words(item.changes, lang),
        "timeline_chart": None,
        "contribution_charts": {},
        "contacts": [],
        "actions": [],
    }
    dataset = scorer.dataset
    if dataset is None:
        return context
    found = case_file(dataset, item.case_id, header.as_of)
    if found is None:
        return context
    context["contacts"], context["actions"] = found.contacts, found.actions
    context["timeline_chart"] = _timeline(scorer, found.case, found.contacts, found.actions,
                                          header.as_of, lang)  # fmt: skip
    if scorer.ready:
        drawn = scorer.contributions(score_request(found, header.as_of))
        context["contribution_charts"] = {
            target: charts.contributions(
                [
                    charts.Bar(
                        label=bar_label(r, lang),
                        value=r.contribution,
                        title=f"{bar_label(r, lang)}: {r.contribution:+.3f}",
                    )
                    for r in reasons
                ],
                i18n.label(i18n.TARGET, target, lang),
            )
            for target, reasons in drawn.items()
        }
    return context


def bar_label(reason: Reason, lang: i18n.Language) -> str:
    """A feature with the case's value of it ("已办结：否 / closed: no"), so that a bar
    that raises the score is not read as the case having the feature."""
    if lang == "zh":
        return f"{reason.label_zh}：{shown_value(reason, 'zh')}"
    return f"{reason.label_en}: {shown_value(reason, 'en')}"


def _timeline(
    scorer: Scorer,
    case: dict[str, Any],
    contacts: list[dict[str, Any]],
    actions: list[dict[str, Any]],
    as_of: dt.datetime,
    lang: i18n.Language,
) -> Any:
    registered: dt.datetime = case["registered_at"]
    start = max(registered, as_of - dt.timedelta(days=HISTORY_DAYS)) - dt.timedelta(days=7)
    end = as_of + dt.timedelta(days=DEFAULT_HORIZON_DAYS)
    periods = []
    lookup = scorer.sources
    if lookup is not None:
        periods = sensitive_periods(
            lookup.sources.calendar, case["county_code"], case["category"], start.date(), end.date()
        )
    points = [
        charts.Point(
            at=c["occurred_at"],
            level=LEVELS.index(c["level"]),
            size=int(c["group_size"] or 1),
            title=f"{i18n.moment_text(c['occurred_at'], lang)} · "
            f"{i18n.label(i18n.LEVEL, c['level'], lang)} · {c['group_size']}",
        )
        for c in contacts
        if c["occurred_at"] >= start
    ]
    ticks = [
        charts.Tick(at=a["occurred_at"], title=f"{i18n.moment_text(a['occurred_at'], lang)} · "
                    f"{i18n.label(i18n.ACTION, a['action_type'], lang)} "
                    f"{i18n.label(i18n.OUTCOME, a['outcome'], lang) if a.get('outcome') else ''}")
        for a in actions
        if a["occurred_at"] >= start
    ]  # fmt: skip
    return charts.timeline(
        points, ticks, periods, [i18n.label(i18n.LEVEL, name, lang) for name in LEVELS],
        start, end, as_of, i18n.word("timeline", lang),
        lambda day: i18n.date_text(day, lang), lambda day: i18n.month_text(day, lang),
    )  # fmt: skip
