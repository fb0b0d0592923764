"""Each step rule on constructed cases: it fires where it should, not elsewhere, and a
step taken lately is not recommended again."""

from __future__ import annotations

from typing import Any

import pytest

from earlywarn.models.steps import (
    FALLBACK,
    RULES,
    STEPS,
    Step,
    from_json,
    rules_markdown,
    steps_for,
    to_json,
)

# A quiet open case: accepted on time, answered, nothing pending, no period near.
QUIET: dict[str, Any] = {
    "accepted": 1, "rejected": 0, "acceptance_overdue_days": 0.0, "answer_overdue_days": 0.0,
    "answer_pending": 0, "answers": 1, "unsatisfied_ratings": 0, "reviews_upheld": 0,
    "group_contacts_90d": 0, "last_group_size": 1, "days_to_category_period": 40,
    "days_to_sensitive_period": 40, "in_local_event": 0, "transfers": 0,
    "mediations_failed": 0, "contacts_30d": 1, "days_since_escalation": None, "last_level": 2,
    "days_since_leader_reception": None, "days_since_mediation": None,
    "days_since_assignment": None, "handling_unit": "县住建局",
}  # fmt: skip

# step -> (what makes it due, what shows it was taken lately; None: nothing stops it)
CASES: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = {
    "accept_now": ({"accepted": 0, "acceptance_overdue_days": 3.5}, None),
    "chase_answer": ({"answer_pending": 1, "answer_overdue_days": 12.0}, None),
    "senior_owner": ({"unsatisfied_ratings": 1}, {"days_since_leader_reception": 10.0}),
    "explain_review": ({"reviews_upheld": 1}, {"days_since_leader_reception": 29.0}),
    "dialogue": ({"group_contacts_90d": 2}, {"days_since_leader_reception": 3.0}),
    "before_period": ({"days_to_category_period": 9}, None),
    "lead_unit": ({"transfers": 2}, {"days_since_assignment": 5.0}),
    "legal_aid": ({"mediations_failed": 1}, {"days_since_mediation": 7.0}),
    "face_to_face": ({"contacts_30d": 4}, {"days_since_leader_reception": 20.0}),
    "solve_at_home": ({"days_since_escalation": 12.0, "last_level": 3}, None),
}  # fmt: skip


def keys(values: dict[str, Any], reasons: list[str] | None = None) -> list[str]:
    return [s.key for s in steps_for(values, reasons or [], top=len(STEPS))]


def test_every_rule_has_a_constructed_case() -> None:
    assert {rule.step for rule in RULES} == set(CASES)


def test_a_quiet_case_gets_only_the_fallback() -> None:
    assert keys(QUIET) == [FALLBACK]


@pytest.mark.parametrize("step", sorted(CASES))
def test_each_rule_fires_on_its_case_and_only_there(step: str) -> None:
    due, _ = CASES[step]
    assert keys(QUIET | due) == [step]


@pytest.mark.parametrize("step", sorted(s for s, (_, taken) in CASES.items() if taken))
def test_a_step_taken_lately_is_not_recommended_again(step: str) -> None:
    due, taken = CASES[step]
    assert taken is not None
    assert step not in keys(QUIET | due | taken)
    # Once the interval has passed, it is due again.
    stale = {name: 400.0 for name in taken}
    assert step in keys(QUIET | due | stale)


def test_a_group_just_under_the_threshold_asks_for_no_dialogue() -> None:
    assert "dialogue" not in keys(QUIET | {"last_group_size": 4})
    assert "dialogue" in keys(QUIET | {"last_group_size": 5})


def test_a_matter_of_many_people_asks_for_dialogue_before_a_group_comes() -> None:
    forming = {"category": "wage_arrears", "max_group_size": 3}
    assert "dialogue" in keys(QUIET | forming)
    assert "dialogue" in keys(
        QUIET | {"category": "land_requisition", "township_family_groups_30d": 1}
    )
    assert "dialogue" not in keys(QUIET | forming | {"category": "neighbor_dispute"})
    assert "dialogue" not in keys(QUIET | {"category": "wage_arrears", "max_group_size": 1})


def test_a_period_beyond_two_weeks_asks_for_nothing() -> None:
    assert "before_period" not in keys(QUIET | {"days_to_category_period": 15})
    assert "before_period" in keys(QUIET | {"days_to_sensitive_period": 0})


def test_unit_named_where_the_step_is_about_it() -> None:
    (chase,) = steps_for(QUIET | CASES["chase_answer"][0], [])
    assert chase == Step("chase_answer", "县住建局")
    assert chase.text("zh") == "督办责任单位按期答复（县住建局）"
    assert chase.text("en").endswith("(县住建局)")
    (dialogue,) = steps_for(QUIET | CASES["dialogue"][0], [])
    assert dialogue.unit is None


def test_overdue_clocks_first_then_the_reasons_order() -> None:
    due = QUIET | CASES["dialogue"][0] | CASES["face_to_face"][0] | CASES["chase_answer"][0]
    assert keys(due, ["contacts_30d", "max_group_size"]) == [
        "chase_answer", "face_to_face", "dialogue",
    ]  # fmt: skip
    assert keys(due, ["max_group_size"]) == ["chase_answer", "dialogue", "face_to_face"]


def test_steps_round_trip_and_old_lists_still_read() -> None:
    steps = [Step("chase_answer", "县住建局"), Step("dialogue")]
    assert from_json(to_json(steps)) == steps
    assert from_json('["dialogue"]') == [Step("dialogue")]
    assert Step("retired_step").text("zh") == "retired_step"


def test_rules_table_for_the_docs_lists_every_step() -> None:
    table = rules_markdown()
    assert all(f"`{step}`" in table for step in STEPS)


def test_docs_show_the_current_rules() -> None:
    from pathlib import Path

    from earlywarn.models.steps import BEGIN_MARK, END_MARK

    docs = Path(__file__).resolve().parents[2] / "docs" / "reasons-and-steps.md"
    section = docs.read_text(encoding="utf-8").split(BEGIN_MARK)[1].split(END_MARK)[0]
    assert section.strip() == rules_markdown().strip(), "run `make docs`"
