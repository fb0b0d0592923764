"""Recommended handling steps from the case's state: what the office should do next.

A documented rules table (docs/steps.md): each rule reads the case's features and
handling state at the list's moment (an acceptance decision missing after 15 days,
an answer overdue, unsatisfied after the answer, a review upheld, a group of five
or more, a sensitive period within 14 days, two or more transfers), and is not
recommended again while the same step, taken lately, is within its natural
interval (a leader reception in the last 30 days). The unit that handles the case
is named where the step is about it. Steps whose reasons the reviewer sees come
first. Steps are advice to the reviewer, never about people.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from earlywarn.contract.rules import GROUP_THRESHOLD
from earlywarn.contract.spec import LEVELS
from earlywarn.files import compact_json, replace_generated

STEPS_SHOWN = 3
PERIOD_AHEAD_DAYS = 14  # a sensitive period this close: resolve before it

# step key -> (中文, English)
STEPS: dict[str, tuple[str, str]] = {
    "accept_now": ("督促依法及时受理", "have the matter accepted: the 15-day clock has run out"),
    "chase_answer": ("督办责任单位按期答复", "chase the responsible unit for the overdue answer"),
    "senior_owner": ("领导包案、联合办理", "assign a senior owner and handle jointly"),
    "explain_review": (
        "复查复核后释法明理、领导接访",
        "explain the review decision in a leader reception",
    ),
    "dialogue": ("提前与群体代表对话", "early dialogue with the group's representatives"),
    "before_period": ("敏感节点前重点化解", "resolve before the coming sensitive period"),
    "lead_unit": ("明确牵头单位、防止推诿", "name one lead unit; stop passing the case around"),
    "legal_aid": ("法律援助、司法调解", "legal aid or judicial mediation"),
    "face_to_face": (
        "领导接访、面对面化解",
        "a leader receives the petitioner to solve it face to face",
    ),
    "solve_at_home": (
        "压实属地责任、就地化解",
        "the owning county takes the case and solves it locally",
    ),
    "review_case": ("复核案情、明确专人跟进", "review the case and name one person to follow it"),
}
FALLBACK = "review_case"  # when no rule fires: a listed case always gets a step
STATUTORY = ("accept_now", "chase_answer")  # a legal clock has run out: always first


@dataclass(frozen=True)
class Step:
    key: str
    unit: str | None = None  # the unit the step is about, where known

    def text(self, language: str) -> str:
        """The step in one language, with its unit; an unknown key (retired) as it is."""
        words = STEPS[self.key][0 if language == "zh" else 1] if self.key in STEPS else self.key
        if not self.unit:
            return words
        return f"{words}（{self.unit}）" if language == "zh" else f"{words} ({self.unit})"


Values = Mapping[str, Any]


def _number(values: Values, name: str) -> float:
    """A count or a number of days; missing reads as 0."""
    value = values.get(name)
    return 0.0 if value is None else float(value)


def _within(values: Values, name: str, days: int) -> bool:
    """A moment (days since) that is known and no longer ago than ``days``."""
    value = values.get(name)
    return value is not None and float(value) <= days


@dataclass(frozen=True)
class Rule:
    step: str
    when: str  # the rule in words, for docs/steps.md
    fires: Callable[[Values], bool]
    taken: Callable[[Values], bool]  # the step was taken lately: not again yet
    not_again: str  # the interval in words
    triggers: frozenset[str]  # features whose reasons this step answers
    names_unit: bool = False


def _no_acceptance(v: Values) -> bool:
    undecided = _number(v, "accepted") == 0 and _number(v, "rejected") == 0
    return undecided and _number(v, "acceptance_overdue_days") > 0


def _near_period(v: Values) -> bool:
    return (
        _within(v, "days_to_category_period", PERIOD_AHEAD_DAYS)
        or _within(v, "days_to_sensitive_period", PERIOD_AHEAD_DAYS)
        or _number(v, "in_local_event") > 0
    )


def _went_up(v: Values) -> bool:
    return _within(v, "days_since_escalation", 90) or _number(v, "last_level") > LEVELS.index(
        "county"
    )


# The brief's shared grievances of many people (群体利益): where groups form.
GROUP_INTEREST = frozenset({
    "land_requisition", "demolition_resettlement", "wage_arrears", "reservoir_migration",
    "enterprise_restructuring", "veterans_resettlement", "retiree_benefits", "village_affairs",
})  # fmt: skip


def _group_matter(v: Values) -> bool:
    """A group came, or a matter of many people shows it is forming: talk to its
    representatives before they come as a group (the value study, docs/value.md)."""
    if _number(v, "group_contacts_90d") >= 1 or _number(v, "last_group_size") >= GROUP_THRESHOLD:
        return True
    forming = _number(v, "max_group_size") >= 2 or _number(v, "township_family_groups_30d") >= 1
    return str(v.get("category")) in GROUP_INTEREST and forming


def _never(_: Values) -> bool:
    return False


def _reception(days: int) -> Callable[[Values], bool]:
    return lambda v: _within(v, "days_since_leader_reception", days)


RULES: tuple[Rule, ...] = (
    Rule("accept_now", "no acceptance decision 15 days after registration", _no_acceptance,
         _never, "-", frozenset({"acceptance_overdue_days", "accepted"}), names_unit=True),
    Rule("chase_answer", "the answer is past the 60-day clock",
         lambda v: _number(v, "answer_overdue_days") > 0, _never, "-",
         frozenset({"answer_overdue_days", "answer_pending", "unit_late_answer_share"}),
         names_unit=True),
    Rule("senior_owner", "rated unsatisfied after an answer",
         lambda v: _number(v, "unsatisfied_ratings") >= 1 and _number(v, "answers") >= 1,
         _reception(30), "a leader reception in the last 30 days",
         frozenset({"unsatisfied_ratings", "last_answer_outcome", "answers"})),
    Rule("explain_review", "a review or re-review upheld the answer",
         lambda v: _number(v, "reviews_upheld") >= 1, _reception(30),
         "a leader reception in the last 30 days",
         frozenset({"reviews_upheld", "review_stage", "days_since_review_step"})),
    Rule("dialogue", f"a group of {GROUP_THRESHOLD} or more in the last 90 days, or at the last contact; or a matter of shared interest (land, demolition, wages, reservoir migrants, restructuring, veterans, retirees, village affairs) that came with 2 or more people or whose kind saw a group visit in the township in the last 30 days",
         _group_matter,
         _reception(14), "a leader reception in the last 14 days",
         frozenset({"group_contacts", "group_contacts_30d", "group_contacts_90d", "max_group_size",
                    "last_group_size", "group_size_growth", "petitioner_other_group_contacts",
                    "township_family_groups_30d", "county_family_groups_30d"})),
    Rule("before_period", f"a sensitive period within {PERIOD_AHEAD_DAYS} days (or inside one)",
         _near_period, _never, "-",
         frozenset({"in_sensitive_period", "days_to_sensitive_period", "in_category_period",
                    "days_to_category_period", "in_local_event"})),
    Rule("lead_unit", "transferred twice or more",
         lambda v: _number(v, "transfers") >= 2,
         lambda v: _within(v, "days_since_assignment", 30), "an assignment in the last 30 days",
         frozenset({"transfers", "distinct_units", "unit_transfers_per_case"}), names_unit=True),
    Rule("legal_aid", "a mediation failed",
         lambda v: _number(v, "mediations_failed") >= 1,
         lambda v: _within(v, "days_since_mediation", 14), "a mediation in the last 14 days",
         frozenset({"mediations_failed"})),
    Rule("face_to_face", "2 or more contacts in the last 30 days",
         lambda v: _number(v, "contacts_30d") >= 2, _reception(30),
         "a leader reception in the last 30 days",
         frozenset({"contacts_7d", "contacts_30d", "contacts_90d", "contact_acceleration",
                    "repeat_petition", "multi_office_contacts", "visits_90d",
                    "days_since_last_contact", "leader_receptions"})),
    Rule("solve_at_home", "went over the county's head in the last 90 days, or the last contact was above the county",
         _went_up, _never, "-",
         frozenset({"escalation_events", "contacts_above_county", "max_level", "last_level",
                    "days_since_escalation", "level_headroom", "petitioner_other_high_contacts"})),
)  # fmt: skip
BY_STEP = {rule.step: rule for rule in RULES}
_TABLE_ORDER = {rule.step: i for i, rule in enumerate(RULES)}  # RULES.index compares fields


def steps_for(values: Values, reason_features: list[str], top: int = STEPS_SHOWN) -> list[Step]:
    """The steps this case's state asks for, not taken lately: a statutory clock that has
    run out first, then those answering the reasons shown (in the reasons' order), then
    the table's order; the fallback when none is due."""
    due = [rule for rule in RULES if rule.fires(values) and not rule.taken(values)]
    position = {feature: i for i, feature in enumerate(reason_features)}

    def order(rule: Rule) -> tuple[int, int, int]:
        matched = [position[f] for f in rule.triggers if f in position]
        overdue = rule.step not in STATUTORY
        return (overdue, min(matched) if matched else len(position), _TABLE_ORDER[rule.step])

    unit = values.get("handling_unit")
    chosen = [Step(r.step, unit if r.names_unit and unit else None) for r in sorted(due, key=order)]
    return chosen[:top] or [Step(FALLBACK)]


def to_json(steps: list[Step]) -> str:
    if not steps:
        return "[]"
    plain = [{"key": s.key, "unit": s.unit} if s.unit else {"key": s.key} for s in steps]
    return compact_json(plain)


def from_json(text: str | None) -> list[Step]:
    """Stored steps; a list stored before units were named holds bare keys."""
    if not text:
        return []
    return [
        Step(item) if isinstance(item, str) else Step(str(item["key"]), item.get("unit"))
        for item in json.loads(text)
    ]


def rules_markdown() -> str:
    """The rules table for docs/steps.md."""
    lines = [
        "| step | 中文 | English | recommended when | not again while | names the unit |",
        "|---|---|---|---|---|---|",
    ]
    for rule in RULES:
        zh, en = STEPS[rule.step]
        unit = "yes" if rule.names_unit else ""
        lines.append(f"| `{rule.step}` | {zh} | {en} | {rule.when} | {rule.not_again} | {unit} |")
    zh, en = STEPS[FALLBACK]
    lines.append(f"| `{FALLBACK}` | {zh} | {en} | no other rule is due | - | |")
    return "\n".join(lines) + "\n"


BEGIN_MARK = "<!-- step rules: generated by `make docs`, do not edit by hand -->"
END_MARK = "<!-- end of step rules -->"

if __name__ == "__main__":
    replace_generated(Path(sys.argv[1]), BEGIN_MARK, END_MARK, rules_markdown())
