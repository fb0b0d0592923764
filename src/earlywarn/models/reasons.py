"""Reasons as data: the feature behind a score, the case's value and its signed contribution.

Reasons travel and are stored in this shape (JSON in the list store), with the
related values their sentence needs (``detail``), and become words only at the
edges, through ``describe``: the score file, the exports, the office page and
the API. Each reason has a kind (catalogue.reason_kind); handling and activity
reasons come first, calendar next, background last, so a background reason is
never shown alone while another contributes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from earlywarn.features.catalogue import BY_NAME, reason_kind
from earlywarn.files import compact_json
from earlywarn.models.sentences import Pair, sentence, value_words

Language = Literal["zh", "en"]
REASONS_SHOWN = 3


@dataclass(frozen=True)
class Reason:
    feature: str  # a key of the feature catalogue
    value: float | str | None  # the case's value of the feature at the list's moment
    contribution: float  # signed TreeSHAP contribution, raw score
    detail: dict[str, Any] = field(default_factory=dict)  # related values, share_below
    # How unusual the contribution is among listed cases (reference.salience); orders
    # the reasons when they are chosen, not kept.
    salience: float = field(default=0.0, compare=False)

    @property
    def kind(self) -> str:
        return reason_kind(self.feature)

    def sentence(self) -> Pair | None:
        """Both languages; None when the value says nothing about this case."""
        return sentence(self.feature, self.value, self.detail)

    @property
    def label_zh(self) -> str:
        return BY_NAME[self.feature].label_zh

    @property
    def label_en(self) -> str:
        return BY_NAME[self.feature].label_en


def plain_value(value: Any) -> float | str | None:
    """A feature value as reasons keep it: numbers as floats, missing as None, codes as text."""
    if value is None:
        return None
    if isinstance(value, bool | int | float | np.integer | np.floating):
        number = float(value)
        return None if math.isnan(number) else number
    return str(value)


_KIND_ORDER = {"handling": 0, "activity": 0, "calendar": 1, "background": 2}
# Features that tell the same story: one reason of each theme is shown, the strongest,
# so that three reasons say three things ("4 group contacts", "4 in the last 90 days"
# and "largest group 11" are one story).
_THEMES: dict[str, tuple[str, ...]] = {
    "contacts": ("contacts_7d", "contacts_30d", "contacts_90d", "contacts_365d",
                 "contacts_total", "visits_90d", "repeat_petition", "contact_acceleration",
                 "days_since_last_contact", "contacts_per_month", "contact_heat"),
    "groups": ("group_contacts", "group_contacts_30d", "group_contacts_90d", "max_group_size",
               "last_group_size", "group_size_growth"),
    "levels": ("max_level", "last_level", "escalation_events", "days_since_escalation",
               "contacts_above_county", "level_headroom", "escalations_90d"),
    "linked": ("petitioner_other_cases", "petitioner_other_high_contacts",
               "petitioner_other_group_contacts", "petitioner_other_contacts_90d",
               "petitioner_other_unsatisfied", "petitioner_other_open_cases"),
    "nearby": ("township_family_groups_30d", "county_family_groups_30d",
               "county_family_contacts_7d", "county_family_contact_surge"),
    "acceptance": ("accepted", "acceptance_overdue_days"),
    "answer": ("answer_pending", "answer_overdue_days", "answers", "answer_waiting_days"),
    "rating": ("unsatisfied_ratings", "days_since_unsatisfied"),
    "unsettled": ("contacts_since_answer", "contacts_since_closure"),
    "review": ("review_stage", "reviews_upheld", "days_since_review_step"),
    "calendar": ("in_sensitive_period", "days_to_sensitive_period", "in_category_period",
                 "days_to_category_period"),
    "unit": ("unit_late_answer_share", "unit_transfers_per_case"),
}  # fmt: skip
THEME = {feature: theme for theme, features in _THEMES.items() for feature in features}


def combine(per_target: Iterable[list[Reason]], top: int = REASONS_SHOWN) -> list[Reason]:
    """The reasons shown for a case across targets: a feature behind both counts once,
    with its larger contribution, and one feature of each theme; handling and activity
    first, then calendar, then background, each by salience (what sets the case apart
    from other listed cases; the contribution when unknown), ties by name. A value that
    says nothing about the case (an open case is not closed) is shown only when no other
    reason is left: a listed case always has one."""
    strongest: dict[str, Reason] = {}
    for reasons in per_target:
        for reason in reasons:
            held = strongest.get(reason.feature)
            if held is None or reason.contribution > held.contribution:
                strongest[reason.feature] = reason
    ordered = sorted(
        strongest.values(),
        key=lambda r: (_KIND_ORDER[r.kind], -(r.salience or r.contribution), r.feature),
    )
    speaking = [r for r in ordered if r.sentence() is not None]
    shown: list[Reason] = []
    themes: set[str] = set()
    for reason in speaking or ordered[:1]:
        theme = THEME.get(reason.feature, reason.feature)
        if theme not in themes:
            shown.append(reason)
            themes.add(theme)
    return shown[:top]


def to_json(reasons: list[Reason]) -> str:
    if not reasons:
        return "[]"  # most rows of a list: not explained
    plain = [
        {"feature": r.feature, "value": r.value, "contribution": r.contribution}
        | ({"detail": r.detail} if r.detail else {})
        for r in reasons
    ]
    return compact_json(plain)


def from_json(text: str | None) -> list[Reason]:
    if not text:
        return []
    return [
        Reason(
            str(r["feature"]),
            r.get("value"),
            float(r.get("contribution") or 0.0),
            dict(r.get("detail") or {}),
        )
        for r in json.loads(text)
        if r.get("feature") in BY_NAME
    ]


def shown_value(reason: Reason, language: Language | None = None) -> str:
    """The value as people read it: flags as yes/no, codes by their names (征地补偿,
    部分支持), days whole as the list counts them (down), other numbers rounded."""
    spec = BY_NAME[reason.feature]
    value = reason.value
    if spec.unit == "flag":
        words: tuple[str, str] | None = ("是", "yes") if value else ("否", "no")
    else:
        words = value_words(reason.feature, value)
    if words is not None:
        return f"{words[0]} {words[1]}" if language is None else words[language == "en"]
    if isinstance(value, float):
        return f"{math.floor(value)}" if spec.unit == "days" else f"{value:.0f}"
    return "-" if value is None else str(value)


def describe(reason: Reason, language: Language | None = None) -> str:
    """The reason's sentence in one language, or ``中文 / English`` (the score file's form).

    A reason stored before sentences existed, or one whose value says nothing,
    reads ``标签: value``.
    """
    pair = reason.sentence()
    if pair is None:
        pair = (
            f"{reason.label_zh}: {shown_value(reason, 'zh')}",
            f"{reason.label_en}: {shown_value(reason, 'en')}",
        )
    if language is None:
        return f"{pair[0]} / {pair[1]}"
    return pair[0] if language == "zh" else pair[1]


def describe_all(reasons: list[Reason], language: Language | None = None) -> str:
    return ("；" if language == "zh" else "; ").join(describe(r, language) for r in reasons)
