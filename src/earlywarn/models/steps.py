"""Recommended handling steps: what the reasons behind a score ask the office to do.

A small rules table from the feature behind a reason to a handling step the
brief names (事要解决: assign a senior owner, joint handling, mediation, legal aid,
relief, an overdue answer). Steps are advice to the reviewer, never about people.
"""

from __future__ import annotations

# step key -> (中文, English)
STEPS: dict[str, tuple[str, str]] = {
    "chase_answer": ("督办责任单位按期答复", "chase the responsible unit for the overdue answer"),
    "accept_now": ("督促依法及时受理", "have the matter accepted within the 15-day clock"),
    "senior_owner": ("领导包案、联合办理", "assign a senior owner and handle jointly"),
    "explain_review": (
        "复查复核后释法明理、领导接访",
        "explain the review decision in a leader reception",
    ),
    "dialogue": ("提前与群体代表对话", "early dialogue with the group's representatives"),
    "face_to_face": (
        "领导接访、面对面化解",
        "a leader receives the petitioner to solve it face to face",
    ),
    "solve_at_home": (
        "压实属地责任、就地化解",
        "the owning county takes the case and solves it locally",
    ),
    "lead_unit": ("明确牵头单位、防止推诿", "name one lead unit; stop passing the case around"),
    "legal_aid": ("法律援助、司法调解", "legal aid or judicial mediation"),
    "before_period": ("敏感节点前重点化解", "resolve before the coming sensitive period"),
}

# feature -> step key; features absent here suggest no specific step.
FEATURE_STEP: dict[str, str] = {
    "answer_overdue_days": "chase_answer",
    "answer_pending": "chase_answer",
    "acceptance_overdue_days": "accept_now",
    "unsatisfied_ratings": "senior_owner",
    "reviews_upheld": "explain_review",
    "review_stage": "explain_review",
    "days_since_review_step": "explain_review",
    "group_contacts": "dialogue",
    "group_contacts_30d": "dialogue",
    "group_contacts_90d": "dialogue",
    "max_group_size": "dialogue",
    "last_group_size": "dialogue",
    "group_size_growth": "dialogue",
    "township_family_groups_30d": "dialogue",
    "county_family_groups_30d": "dialogue",
    "contacts_7d": "face_to_face",
    "contacts_30d": "face_to_face",
    "contacts_90d": "face_to_face",
    "contact_acceleration": "face_to_face",
    "repeat_petition": "face_to_face",
    "multi_office_contacts": "face_to_face",
    "escalation_events": "solve_at_home",
    "contacts_above_county": "solve_at_home",
    "max_level": "solve_at_home",
    "last_level": "solve_at_home",
    "days_since_escalation": "solve_at_home",
    "transfers": "lead_unit",
    "distinct_units": "lead_unit",
    "unit_transfers_per_case": "lead_unit",
    "unit_late_answer_share": "chase_answer",
    "mediations_failed": "legal_aid",
    "in_sensitive_period": "before_period",
    "in_category_period": "before_period",
    "days_to_sensitive_period": "before_period",
    "days_to_category_period": "before_period",
    "in_local_event": "before_period",
}


def steps_for(features: list[str]) -> list[str]:
    """The step keys behind these reasons' features, strongest reason first, each once."""
    return list(dict.fromkeys(FEATURE_STEP[f] for f in features if f in FEATURE_STEP))


def step_text(key: str, language: str) -> str:
    """A step in one language; an unknown key (a step since retired) as it is."""
    return STEPS[key][0 if language == "zh" else 1] if key in STEPS else key
