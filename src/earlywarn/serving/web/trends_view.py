"""The trends page's charts and figures (the figures themselves: ``trends``)."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy.orm import Session

from earlywarn.contract.rules import DEFAULT_HORIZON_DAYS
from earlywarn.serving.scorer import Scorer
from earlywarn.serving.web import charts, i18n
from earlywarn.serving.web.sessions import SignedIn
from earlywarn.serving.web.trends import flags_by_category, flags_per_day, track_record


def table_words(lang: i18n.Language) -> tuple[str, str]:
    """The words of a chart's table of values: its first column and its fold."""
    return i18n.word("date", lang), i18n.word("data_table", lang)


def trends_context(
    db: Session, scorer: Scorer, who: SignedIn, category: str | None, lang: i18n.Language
) -> dict[str, Any]:
    """Flags per day by target (of one category when chosen), the share reviewed, flags by
    category on the latest list, and the precision of past lists."""
    county = who.key.county_code
    days = flags_per_day(db, county, category)
    day_text = functools.partial(i18n.date_text, language=lang)
    flags_chart = charts.lines(
        {
            i18n.label(i18n.TARGET, "escalation", lang): [
                (d.day, d.escalation_flags) for d in days
            ],
            i18n.label(i18n.TARGET, "collective", lang): [
                (d.day, d.collective_flags) for d in days
            ],
        },
        i18n.word("flags_per_day", lang),
        day_text=day_text,
        words=table_words(lang),
    )
    reviewed_chart = charts.lines(
        {i18n.word("share_reviewed", lang): [(d.day, d.reviewed / d.flagged if d.flagged else 0.0)
                                             for d in days]},
        i18n.word("share_reviewed", lang), value_text="{:.0%}", day_text=day_text, maximum=1.0,
        words=table_words(lang),
    )  # fmt: skip
    latest = days[-1].day if days else None
    categories = flags_by_category(db, county, latest) if latest else {}
    category_chart = charts.bars(
        [
            charts.Bar(i18n.label(i18n.CATEGORY, c, lang), n, f"{c}: {n}")
            for c, n in categories.items()
        ],
        i18n.word("flags_by_category", lang),
        words=table_words(lang),
    )
    records = (
        track_record(db, scorer.dataset, county, category, DEFAULT_HORIZON_DAYS)
        if scorer.dataset
        else []
    )
    return {
        "days": days,
        "flags_chart": flags_chart,
        "reviewed_chart": reviewed_chart,
        "category_chart": category_chart,
        "records": records,
        "horizon": DEFAULT_HORIZON_DAYS,
        "latest": latest,
        "category": category,
        "categories": i18n.CATEGORY,
    }
