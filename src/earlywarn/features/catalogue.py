"""The feature catalogue: every feature's name, family, labels, definition and unit.

The one list that docs, reason codes and tests read. The code that computes a
feature lives in the family's module under the same name; a test holds the
computed columns and this list equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from earlywarn.files import replace_generated


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    family: str
    label_zh: str
    label_en: str
    definition: str
    unit: str
    categorical: bool = False


def _f(
    name: str, family: str, zh: str, en: str, definition: str, unit: str, categorical: bool = False
) -> FeatureSpec:
    return FeatureSpec(name, family, zh, en, definition, unit, categorical)


FAMILIES: dict[str, tuple[str, str]] = {
    "contacts": ("重复信访", "repeat contacts"),
    "levels": ("层级", "levels"),
    "group": ("人数", "group size"),
    "handling": ("办理", "handling"),
    "petitioner": ("信访人", "the petitioner"),
    "context": ("周边与责任单位", "context"),
    "calendar": ("敏感节点", "calendar"),
    "case": ("事项", "the case"),
}

# Compact on purpose: one feature a line reads as a table.
# fmt: off
FEATURES: tuple[FeatureSpec, ...] = (
    # Repeat contacts (重信重访).
    _f("contacts_7d", "contacts", "近7天来信来访次数", "contacts in the last 7 days", "contacts in (t-7d, t]", "contacts"),
    _f("contacts_30d", "contacts", "近30天来信来访次数", "contacts in the last 30 days", "contacts in (t-30d, t]", "contacts"),
    _f("contacts_90d", "contacts", "近90天来信来访次数", "contacts in the last 90 days", "contacts in (t-90d, t]", "contacts"),
    _f("contacts_365d", "contacts", "近一年来信来访次数", "contacts in the last year", "contacts in (t-365d, t]", "contacts"),
    _f("contacts_total", "contacts", "累计来信来访次数", "contacts so far", "all contacts up to t", "contacts"),
    _f("visits_90d", "contacts", "近90天走访次数", "visits in the last 90 days", "contacts with channel visit in (t-90d, t]", "visits"),
    _f("days_since_last_contact", "contacts", "距上次来信来访天数", "days since the last contact", "t minus the latest contact", "days"),
    _f("days_since_first_contact", "contacts", "距首次来信来访天数", "days since the first contact", "t minus the earliest contact", "days"),
    _f("contact_acceleration", "contacts", "来访加速度", "contacts speeding up", "(contacts in the last 30 days + 1) / (contacts in the 90 days before them / 3 + 1)", "ratio"),
    _f("distinct_channels", "contacts", "信访渠道数", "channels used", "distinct channels among the contacts", "channels"),
    _f("multi_office_contacts", "contacts", "一信多投次数", "several offices within days", "contacts within 3 days of the previous one at a different level", "contacts"),
    _f("repeat_petition", "contacts", "重复信访（3次以上）", "repeat petition (3+ contacts)", "1 if 3 or more contacts, else 0", "flag"),
    _f("contacts_since_answer", "contacts", "答复后来信来访次数", "contacts since the answer", "contacts after the latest responded step, up to t; missing before any answer", "contacts"),
    _f("contacts_since_closure", "contacts", "办结后来信来访次数", "contacts since it was closed", "contacts after the latest closed step, up to t; missing if never closed", "contacts"),
    _f("contact_heat", "contacts", "近期来访热度", "recent contacts, fading", "sum over contacts of exp(-days ago / 14), each rounded to 2^-40 (an exact sum in any order)", "weighted contacts"),
    _f("contacts_per_month", "contacts", "月均来信来访次数", "contacts per month", "contacts so far per 30 days since the first (30 days at least)", "contacts / 30 days"),
    # Levels (越级).
    _f("max_level", "levels", "到达的最高层级", "highest level reached", "0 village ... 5 national; highest contact level", "level"),
    _f("last_level", "levels", "最近一次来访层级", "level of the last contact", "level of the latest contact", "level"),
    _f("escalation_events", "levels", "越级上行次数", "earlier skip-level contacts", "contacts above every earlier contact’s level (county when none)", "contacts"),
    _f("escalations_90d", "levels", "近90天越级上行次数", "skip-level contacts in the last 90 days", "contacts above every earlier contact’s level in (t-90d, t]", "contacts"),
    _f("days_since_escalation", "levels", "距上次越级天数", "days since the last move upward", "t minus the latest skip-level contact", "days"),
    _f("contacts_above_county", "levels", "县级以上来访次数", "contacts above county level", "contacts at city, province or national level", "contacts"),
    _f("level_headroom", "levels", "距进京层级差", "levels left below national", "5 minus the highest level reached", "levels"),
    # Group size (集体访).
    _f("max_group_size", "group", "最大来访人数", "largest group", "largest group size of a contact", "people"),
    _f("last_group_size", "group", "最近一次来访人数", "last group size", "group size of the latest contact", "people"),
    _f("group_contacts", "group", "集体访次数", "group contacts", "contacts with 5 or more people", "contacts"),
    _f("group_contacts_30d", "group", "近30天集体访次数", "group contacts in the last 30 days", "contacts with 5+ people in (t-30d, t]", "contacts"),
    _f("group_contacts_90d", "group", "近90天集体访次数", "group contacts in the last 90 days", "contacts with 5+ people in (t-90d, t]", "contacts"),
    _f("group_size_growth", "group", "来访人数增长", "group size growing", "largest group in (t-90d, t] minus the largest before; 0 without contacts", "people"),
    # Handling (办理).
    _f("case_age_days", "handling", "登记以来天数", "days since registration", "t minus registered_at", "days"),
    _f("accepted", "handling", "已受理", "accepted", "1 if an acceptance is recorded", "flag"),
    _f("rejected", "handling", "不予受理", "not accepted", "1 if a rejection is recorded", "flag"),
    _f("acceptance_overdue_days", "handling", "受理超期天数", "days past the 15-day acceptance clock", "days from registration to acceptance (or to t) beyond 15", "days"),
    _f("answer_overdue_days", "handling", "答复超期天数", "days past the 60-day answer clock", "while an answer is pending: days since acceptance or reopening beyond 60", "days"),
    _f("answer_pending", "handling", "待答复", "answer pending", "1 if accepted or reopened with no answer since", "flag"),
    _f("answer_waiting_days", "handling", "待答复天数", "days waiting for the answer", "while an answer is pending: days since acceptance or reopening (60 is the due day)", "days"),
    _f("transfers", "handling", "转办次数", "transfers between units", "transferred steps", "steps"),
    _f("distinct_units", "handling", "经手单位数", "units involved", "distinct units in the handling steps", "units"),
    _f("answers", "handling", "答复次数", "answers given", "responded steps", "steps"),
    _f("last_answer_outcome", "handling", "最近答复结果", "last answer outcome", "0 none, 1 supported, 2 partly supported, 3 not supported", "code", categorical=True),
    _f("unsatisfied_ratings", "handling", "不满意次数", "unsatisfied ratings", "satisfaction steps rated unsatisfied", "ratings"),
    _f("days_since_unsatisfied", "handling", "距上次不满意评价天数", "days since an unsatisfied rating", "t minus the latest satisfaction step rated unsatisfied", "days"),
    _f("satisfied_ratings", "handling", "满意次数", "satisfied ratings", "satisfaction steps rated satisfied", "ratings"),
    _f("review_stage", "handling", "复查复核阶段", "review stage", "0 none, 1 review requested, 2 review decided, 3 re-review requested, 4 re-review decided", "stage", categorical=True),
    _f("days_since_review_step", "handling", "距上次复查复核天数", "days since the last review step", "t minus the latest review step", "days"),
    _f("reviews_upheld", "handling", "复查复核维持次数", "reviews upheld", "review and re-review decisions that upheld the answer", "decisions"),
    _f("leader_receptions", "handling", "领导接访次数", "leader receptions", "leader_reception steps", "steps"),
    _f("days_since_leader_reception", "handling", "距领导接访天数", "days since a leader received them", "t minus the latest leader reception", "days"),
    _f("mediations_failed", "handling", "调解失败次数", "failed mediations", "mediation steps with outcome failed", "steps"),
    _f("mediations_agreed", "handling", "调解成功次数", "successful mediations", "mediation steps with outcome agreed", "steps"),
    _f("relief_granted", "handling", "已救助", "hardship relief granted", "relief_granted steps", "steps"),
    _f("closed", "handling", "已办结", "closed", "1 if the latest closure is after the latest reopening", "flag"),
    _f("reopened", "handling", "重新办理次数", "times reopened", "reopened steps", "steps"),
    _f("days_since_last_action", "handling", "距上次办理天数", "days since the last handling step", "t minus the latest step", "days"),
    # The petitioner (信访人).
    _f("petitioner_other_cases", "petitioner", "信访人其他事项数", "the petitioner’s other cases", "other cases of the same petitioner registered up to t", "cases"),
    _f("petitioner_other_high_contacts", "petitioner", "其他事项县级以上来访", "their contacts above county level", "contacts above county level in the petitioner’s other cases up to t", "contacts"),
    _f("petitioner_other_group_contacts", "petitioner", "其他事项集体访次数", "their group contacts", "contacts with 5+ people in the petitioner’s other cases up to t", "contacts"),
    _f("petitioner_other_contacts_90d", "petitioner", "其他事项近90天来信来访", "their recent contacts on other matters", "contacts in (t-90d, t] in the petitioner’s other cases", "contacts"),
    _f("petitioner_other_unsatisfied", "petitioner", "其他事项不满意次数", "their unsatisfied ratings on other matters", "satisfaction steps rated unsatisfied in the petitioner’s other cases up to t", "ratings"),
    _f("petitioner_other_open_cases", "petitioner", "其他在办事项数", "their other matters still open", "other cases registered up to t minus closures net of reopenings", "cases"),
    # Context (攀比, responsible unit).
    _f("township_family_groups_30d", "context", "本乡镇同类集体访（30天）", "group visits of similar cases in the township", "other cases’ contacts with 5+ people, same township and category family, in (t-30d, t]", "contacts"),
    _f("county_family_groups_30d", "context", "本县同类集体访（30天）", "group visits of similar cases in the county", "other cases’ contacts with 5+ people, same county and category family, in (t-30d, t]", "contacts"),
    _f("county_family_contacts_7d", "context", "本县同类事项近7天来信来访", "similar matters' contacts in the county this week", "other cases’ contacts, same county and category family, in (t-7d, t]", "contacts"),
    _f("county_family_contact_surge", "context", "本县同类事项来访激增", "similar matters in the county surging", "(their contacts in (t-7d, t] + 1) / (their contacts in (t-90d, t-7d] per 7 days + 1)", "ratio"),
    _f("unit_late_answer_share", "context", "责任单位超期答复比例", "the unit’s share of late answers", "answers of the responsible unit more than 60 days after acceptance, share of its answers up to t", "share"),
    _f("unit_transfers_per_case", "context", "责任单位转办率", "the unit’s transfers per case", "transfers by the responsible unit per case it owns, up to t", "ratio"),
    # Calendar (敏感节点).
    _f("in_sensitive_period", "calendar", "处于全国敏感节点", "inside a national sensitive period", "1 if t’s date is in a period concerning all categories", "flag"),
    _f("days_to_sensitive_period", "calendar", "距全国敏感节点天数", "days to the next national sensitive period", "0 inside one", "days"),
    _f("in_category_period", "calendar", "处于本类敏感节点", "inside a period for this category", "1 if t’s date is in a period concerning the case’s category", "flag"),
    _f("days_to_category_period", "calendar", "距本类敏感节点天数", "days to the next period for this category", "0 inside one", "days"),
    _f("in_local_event", "calendar", "处于本地重要节点", "inside a local event", "1 if in a period of the dataset’s calendar for the case’s county", "flag"),
    _f("as_of_month", "calendar", "月份", "month", "month of t", "month"),
    _f("as_of_weekday", "calendar", "星期", "weekday", "0 Monday ... 6 Sunday", "day"),
    # The case itself.
    _f("category", "case", "事项类别", "category", "category code", "code", categorical=True),
    _f("nature", "case", "信访性质", "nature", "appeal, report, suggestion or inquiry", "code", categorical=True),
    _f("county_code", "case", "县区", "county", "county that owns the case", "code", categorical=True),
)
# fmt: on

BY_NAME: dict[str, FeatureSpec] = {spec.name: spec for spec in FEATURES}
FEATURE_NAMES: tuple[str, ...] = tuple(BY_NAME)
CATEGORICAL: tuple[str, ...] = tuple(s.name for s in FEATURES if s.categorical)

# What a reason tells the reviewer: handling (the office can change it), activity
# (what the petitioners did lately), calendar (a period ahead) or background (the
# matter's standing attributes). Handling and activity reasons are shown first.
REASON_KINDS = ("handling", "activity", "calendar", "background")
_FAMILY_KIND = {
    "contacts": "activity",
    "levels": "activity",
    "group": "activity",
    "handling": "handling",
    "petitioner": "activity",
    "context": "activity",
    "calendar": "calendar",
    "case": "background",
}
_KIND_EXCEPTIONS = {
    "case_age_days": "background",
    "closed": "background",
    "unit_late_answer_share": "background",  # the unit's record, not this case's handling
    "unit_transfers_per_case": "background",
    "as_of_month": "background",
    "as_of_weekday": "background",
}


def reason_kind(name: str) -> str:
    return _KIND_EXCEPTIONS.get(name) or _FAMILY_KIND[BY_NAME[name].family]


# The case's handling state beside its features, for steps and sentences, never a
# model input: who handles it now, when the last mediation and assignment happened,
# and the name of the next sensitive period that concerns it.
CASE_STATE: tuple[str, ...] = (
    "handling_unit",
    "days_since_mediation",
    "days_since_assignment",
    "next_period_zh",
    "next_period_en",
)


def catalogue_markdown() -> str:
    """The catalogue as a Markdown table per family, for docs/features.md."""
    lines: list[str] = []
    for family, (zh, en) in FAMILIES.items():
        lines += [
            f"\n### {en} · {zh}\n",
            "| name | 中文 | English | definition | unit | reason kind |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| `{s.name}` | {s.label_zh} | {s.label_en} | {s.definition} | {s.unit} "
            f"| {reason_kind(s.name)} |"
            for s in FEATURES
            if s.family == family
        ]
    return "\n".join(lines).strip() + "\n"


BEGIN_MARK = "<!-- catalogue: generated by `make docs`, do not edit by hand -->"
END_MARK = "<!-- end of catalogue -->"


def write_catalogue_into(path: Path) -> None:
    """Replace the generated section of a Markdown file with the current catalogue."""
    replace_generated(path, BEGIN_MARK, END_MARK, catalogue_markdown())


if __name__ == "__main__":
    import sys

    write_catalogue_into(Path(sys.argv[1]))
