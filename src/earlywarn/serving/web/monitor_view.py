"""What the monitoring page shows of a day's stored checks, in the page's language: the
verdict first (does the model still fit, and what to do), then the model's and the
data's checks, the promised against the matured precision, the backlog, and the other
measures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from earlywarn.contract.rules import DEFAULT_HORIZON_DAYS
from earlywarn.serving.monitor.checks import JUDGED, SIGNIFICANCE, THRESHOLDS, Check
from earlywarn.serving.monitor.precision import CHECK as SHORTFALL
from earlywarn.serving.monitor.store import as_check
from earlywarn.serving.monitor.verdict import Verdict, verdict_of
from earlywarn.serving.store import MonitorCheck
from earlywarn.serving.web import i18n
from earlywarn.serving.web.monitor_parts import backlog_rows, precision_rows
from earlywarn.serving.web.monitor_rows import ORDER, row_of, subject_text, waiting_text
from earlywarn.serving.web.monitor_words import joined, word


def _names(checks: Sequence[Check], lang: i18n.Language) -> str:
    colon = "：" if lang == "zh" else ": "
    named = [
        f"{i18n.label(i18n.CHECK, c.check, lang)}{colon}{subject_text(c.check, c.subject, lang)}"
        for c in checks
    ]
    return joined(named, lang)


def verdict_text(verdict: Verdict, day: dt.date, lang: i18n.Language) -> list[str]:
    """The verdict as sentences: what it is and what to do first, then what was not
    judged yet and the backlog."""
    names = _names(verdict.drivers, lang)
    iso = day.isoformat()
    lines: list[str]
    if verdict.state == "none":
        return [word("v_none", lang), word("v_none_step", lang, day=iso)]
    if verdict.state == "fix_import":
        lines = [word("v_fix_import", lang, names=names), word("v_fix_import_step", lang, day=iso)]
        if verdict.after:
            lines.append(word("v_after", lang, names=_names(verdict.after, lang)))
    elif verdict.state == "retrain":
        lines = [word("v_retrain", lang, names=names), word("v_retrain_step", lang)]
    elif verdict.state == "scores_moved":
        lines = [word("v_scores", lang, names=names), word("v_scores_step", lang)]
    elif verdict.state == "watch":
        kinds = {c.kind for c in verdict.drivers}
        lines = [word("v_watch", lang, names=names)]
        lines += [word(f"v_watch_{kind}", lang) for kind in ("model", "data") if kind in kinds]
    elif verdict.state == "fits":
        lines = [word("v_fits", lang, n=verdict.judged)]
    else:
        lines = [word("v_waiting", lang)]
    if verdict.waiting:
        items = joined([f"{subject_text(c.check, c.subject, lang)}（{waiting_text(c, lang)}）"
                        if lang == "zh" else
                        f"{subject_text(c.check, c.subject, lang)} ({waiting_text(c, lang)})"
                        for c in verdict.waiting], lang)  # fmt: skip
        lines.append(word("v_waiting_list", lang, n=len(verdict.waiting), items=items))
    if verdict.backlog:
        aged = [subject_text(c.check, c.subject, lang) for c in verdict.backlog]
        lines.append(word("v_backlog", lang, names=joined(aged, lang)))
    return lines


def monitor_context(
    stored: Sequence[MonitorCheck], day: dt.date, lang: i18n.Language
) -> dict[str, Any]:
    """The page's parts of one day: ``verdict`` (its state and sentences), ``rows`` (the
    model's and the data's checks, alerts first), ``precision``, ``backlog`` and
    ``measures``."""
    warn, alert = THRESHOLDS[SHORTFALL]
    checks = [as_check(row) for row in stored]
    verdict = verdict_of(checks)
    judged = [row_of(c, lang) for c in checks if c.check in JUDGED and c.kind != "backlog"]
    judged.sort(key=lambda r: (ORDER.get(r.status, len(ORDER)), r.check.check, r.check.subject))
    return {
        "verdict": verdict,
        "verdict_lines": verdict_text(verdict, day, lang),
        "rows": judged,
        "precision": precision_rows(checks, lang),
        "backlog": backlog_rows(checks, lang),
        "measures": [row_of(c, lang) for c in checks if c.check not in JUDGED],
        # Each judged check's bounds, on the page (the help pointed to a file of the
        # project's sources, which the office never sees).
        "thresholds": [
            (i18n.label(i18n.CHECK, check, lang), f"{bounds[0]:g}", f"{bounds[1]:g}")
            for check, bounds in THRESHOLDS.items()
        ],
        "precision_help": word("precision_help", lang, days=DEFAULT_HORIZON_DAYS,
                               warn=f"{warn * 100:g}", alert=f"{alert * 100:g}",
                               p_warn=SIGNIFICANCE["warn"], p_alert=SIGNIFICANCE["alert"]),
    }  # fmt: skip
