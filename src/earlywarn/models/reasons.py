"""Reasons as data: the feature behind a score, the case's value and its signed contribution.

Reasons travel and are stored in this shape (JSON in the list store) and become
words only at the edges, through ``describe``: the score file, the exports, the
office page and the API's labels.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from earlywarn.features.catalogue import BY_NAME

Language = Literal["zh", "en"]
REASONS_SHOWN = 3


@dataclass(frozen=True)
class Reason:
    feature: str  # a key of the feature catalogue
    value: float | str | None  # the case's value of the feature at the list's moment
    contribution: float  # signed TreeSHAP contribution, raw score

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


def combine(per_target: Iterable[list[Reason]], top: int = REASONS_SHOWN) -> list[Reason]:
    """The strongest reasons behind a case across targets: a feature behind both counts
    once, with its larger contribution; strongest first (ties by feature name)."""
    strongest: dict[str, Reason] = {}
    for reasons in per_target:
        for reason in reasons:
            held = strongest.get(reason.feature)
            if held is None or reason.contribution > held.contribution:
                strongest[reason.feature] = reason
    return sorted(strongest.values(), key=lambda r: (-r.contribution, r.feature))[:top]


def to_json(reasons: list[Reason]) -> str:
    if not reasons:
        return "[]"  # most rows of a list: not explained
    plain = [
        {"feature": r.feature, "value": r.value, "contribution": r.contribution} for r in reasons
    ]
    return json.dumps(plain, ensure_ascii=False, separators=(",", ":"))


def from_json(text: str | None) -> list[Reason]:
    if not text:
        return []
    return [
        Reason(str(r["feature"]), r.get("value"), float(r.get("contribution") or 0.0))
        for r in json.loads(text)
        if r.get("feature") in BY_NAME
    ]


def shown_value(reason: Reason, language: Language | None = None) -> str:
    """The value as people read it: flags as yes/no, numbers whole, codes as they are."""
    spec = BY_NAME[reason.feature]
    value = reason.value
    if spec.unit == "flag":
        words = ("是", "yes") if value else ("否", "no")
        return f"{words[0]} {words[1]}" if language is None else words[language == "en"]
    if isinstance(value, float):
        return f"{value:.0f}"
    return "-" if value is None else str(value)


def describe(reason: Reason, language: Language | None = None) -> str:
    """``标签 / label: value`` (both languages, the score file's form) or one language."""
    value = shown_value(reason, language)
    if language is None:
        return f"{reason.label_zh} / {reason.label_en}: {value}"
    return f"{reason.label_zh if language == 'zh' else reason.label_en}: {value}"


def describe_all(reasons: list[Reason], language: Language | None = None) -> str:
    return "; ".join(describe(r, language) for r in reasons)
