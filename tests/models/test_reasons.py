"""Reasons as sentences with the case's numbers, their kinds and the order they are shown in."""

from __future__ import annotations

from earlywarn.features.catalogue import FEATURE_NAMES, REASON_KINDS, reason_kind
from earlywarn.models.reasons import Reason, combine, describe, from_json, to_json
from earlywarn.models.reference import salience, share_below
from earlywarn.models.sentences import SENTENCES, sentence


def both(feature: str, value: object, **detail: object) -> tuple[str, str] | None:
    return sentence(feature, value, dict(detail))


def test_every_feature_has_a_kind_and_a_sentence_rule() -> None:
    for name in FEATURE_NAMES:
        assert reason_kind(name) in REASON_KINDS
        assert name in SENTENCES or name in ("category", "nature", "county_code"), name


def test_sentences_carry_the_cases_own_numbers() -> None:
    assert both("answer_overdue_days", 12.7) == ("答复已超期 12 天", "answer 12 days overdue")
    assert both("answer_overdue_days", 12.7, handling_unit="县住建局") == (
        "答复已超期 12 天（县住建局）",
        "answer 12 days overdue (县住建局)",
    )
    assert both("contacts_30d", 4, contacts_90d=5) == (
        "近30天来信来访 4 次（此前60天 1 次）",
        "4 contacts in the last 30 days (1 in the 60 days before)",
    )
    period = {"next_period_zh": "全国两会", "next_period_en": "the NPC sessions"}
    assert both("days_to_category_period", 9, **period) == (
        "距全国两会 9 天",
        "9 days before: the NPC sessions",
    )
    assert both("last_group_size", 23) == ("上次来访 23 人", "last contact by 23 people")
    assert both("max_level", 4.0) == ("曾到省级上访", "has reached the province level")
    assert both("category", "land_requisition") == (
        "事项类别：征地补偿",
        "category: land requisition",
    )


def test_contrast_with_the_reference_cases_where_it_helps() -> None:
    assert both("contacts_90d", 9, share_below=0.97) == (
        "近90天来信来访 9 次，高于 97% 的在办事项",
        "9 contacts in the last 90 days, more than 97% of open cases",
    )
    assert both("contacts_90d", 2, share_below=0.6) == (
        "近90天来信来访 2 次",
        "2 contacts in the last 90 days",
    )
    meta = {"reference_percentiles": {"contacts_90d": [0.0] * 60 + [1.0] * 30 + [3.0] * 9}}
    assert share_below(meta, "contacts_90d", 5) == 0.99
    assert share_below(meta, "contacts_90d", 0) == 0.0
    assert share_below({}, "contacts_90d", 5) is None


def test_values_that_say_nothing_about_the_case_have_no_sentence() -> None:
    assert both("closed", 0) is None  # every open case
    assert both("transfers", 0) is None
    assert both("max_level", 2) is None  # the county: the usual path
    assert both("days_to_sensitive_period", 200) is None
    assert both("answers", 0) == ("尚未答复", "no answer yet")


def r(feature: str, contribution: float, value: object = 3.0, sal: float = 0.0) -> Reason:
    return Reason(feature, value, contribution, {}, sal)  # type: ignore[arg-type]


def test_handling_and_activity_first_background_never_alone() -> None:
    shown = combine([[r("category", 0.9, "land_requisition"), r("days_to_sensitive_period", 0.5),
                      r("unsatisfied_ratings", 0.1, 1.0)]])  # fmt: skip
    assert [x.feature for x in shown] == [
        "unsatisfied_ratings",
        "days_to_sensitive_period",
        "category",
    ]
    assert [x.kind for x in shown] == ["handling", "calendar", "background"]


def test_one_reason_per_theme_and_the_most_unusual_first() -> None:
    shown = combine([[r("group_contacts", 0.9, sal=2.0), r("group_contacts_90d", 0.8, sal=3.0),
                      r("max_group_size", 0.7), r("contacts_30d", 0.2, sal=5.0)]])  # fmt: skip
    assert [x.feature for x in shown] == ["contacts_30d", "group_contacts_90d"]
    typical = {"typical_contributions": {"group_contacts": 0.5, "mediations_failed": 0.0}}
    assert salience(typical, "group_contacts", 0.5) == 1.0
    assert salience(typical, "mediations_failed", 0.1) > salience(typical, "group_contacts", 0.5)
    assert salience({}, "group_contacts", 0.4) == 0.4


def test_a_value_that_says_nothing_is_shown_only_when_nothing_else_is_left() -> None:
    """Across targets too: one target's only reason ("not closed") gives way to the
    other target's reasons that say something."""
    escalation = [r("closed", 0.8, 0.0)]
    collective = [r("category", 0.3, "land_requisition"), r("contacts_30d", 0.2)]
    assert [x.feature for x in combine([escalation, collective])] == ["contacts_30d", "category"]
    assert [x.feature for x in combine([escalation])] == ["closed"]  # a listed case has one
    # In the score file's two-language form, each half in its own language.
    assert describe(escalation[0]) == "已办结: 否 / closed: no"


def test_reasons_round_trip_with_their_detail() -> None:
    reasons = [Reason("answer_overdue_days", 12.0, 0.4, {"handling_unit": "县住建局"})]
    assert from_json(to_json(reasons)) == reasons
    old = from_json('[{"feature":"closed","value":0.0,"contribution":0.3}]')
    assert describe(old[0], "zh") == "已办结: 否"  # stored before sentences: label and value


def test_levels_and_months_are_shown_by_their_names() -> None:
    """The contributions chart read "到达的最高层级：5" and "月份：1"."""
    from earlywarn.models.reasons import shown_value

    assert shown_value(r("max_level", 0.2, 4.0), "zh") == "省级"
    assert shown_value(r("last_level", 0.2, 5.0), "en") == "national"
    assert shown_value(r("as_of_month", 0.1, 1.0), "zh") == "1月"
    assert shown_value(r("contacts_90d", 0.1, 3.0), "zh") == "3"  # counts stay numbers
