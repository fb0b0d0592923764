"""A stored monitoring check as a row of the monitoring page, in the page's language: its
name, what it is about (a feature by its catalogue name, the code kept beside it), its
value and bounds, and its status; a check not judged yet says what it waits for."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from earlywarn.serving.monitor.checks import SIGNIFICANCE, THRESHOLDS, Check
from earlywarn.serving.monitor.drift import SCORE_HISTORY_LEAST
from earlywarn.serving.web import i18n
from earlywarn.serving.web.monitor_words import SUBJECT, feature_name, word

_PERCENT = frozenset({"quarantine_share", "unmapped_share", "share_flagged", "mean_probability",
                      "expected_precision", "matured_precision", "matured_recall",
                      "matured_precision_acted", "matured_precision_not_acted"})  # fmt: skip
_POINTS = frozenset({"calibration_gap", "precision_shortfall"})
ORDER = {"alert": 0, "warn": 1, "waiting": 2, "ok": 3}


@dataclass(frozen=True)
class Row:
    check: Check
    label: str  # the check's name
    subject: str  # what it is about, in words
    code: str | None  # the stored subject, when the words differ from it
    value: str
    bounds: str
    status: str  # ok, warn, alert, or waiting (not judged yet)
    why: str  # what a check not judged yet waits for


def date_words(text: Any, lang: i18n.Language) -> str:
    try:
        return i18n.date_text(dt.date.fromisoformat(str(text)), lang)
    except ValueError:
        return str(text)


def subject_text(check: str, subject: str, lang: i18n.Language) -> str:
    """A stored subject in words: a feature's catalogue name, a target, a list, a table."""
    if check in ("input_psi", "backlog_psi"):
        return feature_name(subject, lang) or subject
    if "@" in subject:  # a matured list: target@list date
        target, day = subject.split("@", 1)
        listed = word("list_of", lang, day=date_words(day, lang))
        return f"{i18n.label(i18n.TARGET, target, lang)} · {listed}"
    if ":" in subject:  # a score measure: measure:target
        measure, target = subject.split(":", 1)
        return f"{i18n.label(i18n.CHECK, measure, lang)} · {i18n.label(i18n.TARGET, target, lang)}"
    if subject in i18n.TARGET:
        return i18n.label(i18n.TARGET, subject, lang)
    return i18n.label(SUBJECT, subject, lang)


def value_text(check: str, value: float | None) -> str:
    if value is None:
        return "-"
    if check in _POINTS:
        return f"{value * 100:.1f}"
    if check in _PERCENT:
        return i18n.percent(value)
    return f"{value:.4g}"


def bounds_text(check: str, lang: i18n.Language) -> str:
    if check not in THRESHOLDS:
        return ""
    warn, alert = THRESHOLDS[check]
    if check in _POINTS:
        if check == "precision_shortfall":
            return word("bounds_shortfall", lang, warn=f"{warn * 100:g}", alert=f"{alert * 100:g}",
                        p_warn=SIGNIFICANCE["warn"], p_alert=SIGNIFICANCE["alert"])  # fmt: skip
        return word("points", lang, value=f"{warn * 100:g} / {alert * 100:g}")
    if check in _PERCENT:
        return f"{warn * 100:g}% / {alert * 100:g}%"
    return f"{warn:g} / {alert:g}"


def waiting_text(check: Check, lang: i18n.Language) -> str:
    """What a check not judged yet waits for, from its detail (older records included:
    a score shift's detail always held its earlier days)."""
    detail = check.detail
    waits = detail.get("waits_for") or ("earlier_days" if check.check == "score_shift" else None)
    if waits == "earlier_days":
        needs = detail.get("needs", SCORE_HISTORY_LEAST)
        return word("wait_earlier_days", lang, needs=needs, days=detail.get("days", 0))
    if waits == "matured_list":
        if not detail.get("first_list"):
            return word("wait_no_list", lang)
        return word("wait_matured_list", lang, first=date_words(detail["first_list"], lang),
                    matures=date_words(detail["matures"], lang))  # fmt: skip
    if waits == "flagged_not_acted":
        return word("wait_flagged", lang)
    if waits == "retrained":
        return word("wait_retrained", lang)
    return word("wait_unknown", lang)


def row_of(check: Check, lang: i18n.Language) -> Row:
    subject = subject_text(check.check, check.subject, lang)
    waiting = check.waiting
    return Row(
        check=check,
        label=i18n.label(i18n.CHECK, check.check, lang),
        subject=subject,
        code=check.subject if subject != check.subject else None,
        value=value_text(check.check, check.value),
        bounds=bounds_text(check.check, lang),
        status="waiting" if waiting else check.status,
        why=waiting_text(check, lang) if waiting else "",
    )
