"""Reasons as sentences with the case's own numbers, in Chinese and English.

Each feature that can explain a score has a sentence here. A sentence reads the
reason's value and the related values kept beside it (``RELATED``: the earlier
window, the next period's name, the unit), and, where it helps, contrasts the
value with the model's reference cases ("more than 96% of open cases"). A value
that says nothing about this case (an open case is "not closed", zero transfers)
has no sentence, and such a reason is not shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from earlywarn.contract.names import ACTION_TYPE_ZH, CATEGORY_ZH, LEVEL_ZH, NATURE_ZH, OUTCOME_ZH
from earlywarn.contract.rules import ANSWER_CLOCK_DAYS, ANSWER_CODE, REVIEW_STAGE
from earlywarn.contract.spec import LEVELS

Pair = tuple[str, str]  # (中文, English)
Detail = dict[str, Any]

# Values kept beside a reason so that its sentence can say more than the one number.
_PERIOD = ("next_period_zh", "next_period_en")
RELATED: dict[str, tuple[str, ...]] = {
    "contacts_7d": ("contacts_30d",),
    "contacts_30d": ("contacts_90d",),
    "group_contacts_30d": ("group_contacts_90d",),
    "group_contacts_90d": ("group_contacts",),
    "acceptance_overdue_days": ("handling_unit",),
    "answer_overdue_days": ("handling_unit",),
    "answer_pending": ("handling_unit",),
    "review_stage": ("days_since_review_step",),
    "in_sensitive_period": _PERIOD,
    "days_to_sensitive_period": _PERIOD,
    "in_category_period": _PERIOD,
    "days_to_category_period": _PERIOD,
}
# Counts for which "more than N% of open cases" helps the reader.
CONTRASTED = frozenset(
    {
        "contacts_30d", "contacts_90d", "contacts_365d", "contacts_total", "visits_90d",
        "max_group_size", "last_group_size", "group_contacts", "group_contacts_90d",
        "escalation_events", "contacts_above_county", "multi_office_contacts", "transfers",
        "distinct_units", "unsatisfied_ratings", "acceptance_overdue_days",
        "answer_overdue_days", "township_family_groups_30d", "county_family_groups_30d",
        "petitioner_other_high_contacts", "petitioner_other_group_contacts",
    }
)  # fmt: skip
CONTRAST_FROM = 0.90  # contrasted only when above this share of the reference cases

_REVIEW_ZH = {1: "已申请复查", 2: "复查已作出决定", 3: "已申请复核", 4: "复核已作出决定"}
_REVIEW_EN = {
    1: "a review was requested",
    2: "the review was decided",
    3: "a re-review was requested",
    4: "the re-review was decided",
}
_ANSWER = {code: outcome for outcome, code in ANSWER_CODE.items()}


def _n(value: Any) -> int:
    """A count or a number of days as people say it: whole, rounded down."""
    return int(float(value))


def _count(zh: str, en: str, least: int = 1) -> Callable[[Any, Detail], Pair | None]:
    """A count sentence, silent below ``least``; ``{n}`` is the case's number."""

    def say(value: Any, _: Detail) -> Pair | None:
        if value is None or _n(value) < least:
            return None
        return zh.format(n=_n(value)), en.format(n=_n(value), s="" if _n(value) == 1 else "s")

    return say


def _flag(zh: str, en: str, when: int = 1) -> Callable[[Any, Detail], Pair | None]:
    return lambda value, _: (zh, en) if value is not None and int(value) == when else None


def _days_ago(zh: str, en: str, within: int) -> Callable[[Any, Detail], Pair | None]:
    """A recent moment; silent when longer ago than ``within`` days."""

    def say(value: Any, _: Detail) -> Pair | None:
        if value is None or value > within:
            return None
        days = _n(value)
        if days == 0:
            return zh.format(when="今天"), en.format(when="today")
        return zh.format(when=f"{days} 天前"), en.format(when=f"{days} day{'s' * (days > 1)} ago")

    return say


def _level(zh: str, en: str) -> Callable[[Any, Detail], Pair | None]:
    def say(value: Any, _: Detail) -> Pair | None:
        if value is None or _n(value) <= LEVELS.index("county"):
            return None  # at or below the county: the usual path, nothing to say
        name = LEVELS[_n(value)]
        return zh.format(level=LEVEL_ZH[name]), en.format(level=name)

    return say


def _window(zh: str, en: str, wider: str, span: int) -> Callable[[Any, Detail], Pair | None]:
    """A recent count with the same count in the rest of the wider window beside it."""

    def say(value: Any, detail: Detail) -> Pair | None:
        if value is None or _n(value) < 1:
            return None
        n = _n(value)
        text = zh.format(n=n), en.format(n=n, s="" if n == 1 else "s")
        before = detail.get(wider)
        if before is None:
            return text
        earlier = max(_n(before) - n, 0)
        return (
            f"{text[0]}（此前{span}天 {earlier} 次）",
            f"{text[1]} ({earlier} in the {span} days before)",
        )

    return say


def _period(inside: bool) -> Callable[[Any, Detail], Pair | None]:
    def say(value: Any, detail: Detail) -> Pair | None:
        zh_name = detail.get("next_period_zh") or "敏感节点"
        en_name = detail.get("next_period_en") or "a sensitive period"
        if inside:
            if not value:
                return None
            return f"正处{zh_name}期间", f"inside: {en_name}"
        if value is None or value > 60:
            return None
        days = _n(value)
        if days == 0:
            return f"正处{zh_name}期间", f"inside: {en_name}"
        # "9 days to Weeks before the Spring Festival" read as broken English: the
        # period's name stands on its own.
        return f"距{zh_name} {days} 天", f"{days} day{'s' * (days > 1)} before: {en_name}"

    return say


def _waiting(value: Any, detail: Detail) -> Pair | None:
    """The answer clock as the office reads it: days left before the due day, from 45
    days on (overdue answers have their own reason)."""
    if value is None or not 45 <= _n(value) < ANSWER_CLOCK_DAYS:
        return None
    left = ANSWER_CLOCK_DAYS - _n(value)
    return f"距答复期限 {left} 天", f"answer due in {left} day{'s' * (left > 1)}"


def _overdue(zh: str, en: str) -> Callable[[Any, Detail], Pair | None]:
    def say(value: Any, detail: Detail) -> Pair | None:
        if value is None or _n(value) < 1:
            return None
        n, unit = _n(value), detail.get("handling_unit")
        text = zh.format(n=n), en.format(n=n, s="" if n == 1 else "s")
        return (f"{text[0]}（{unit}）", f"{text[1]} ({unit})") if unit else text

    return say


def _answer_outcome(value: Any, _: Detail) -> Pair | None:
    outcome = _ANSWER.get(_n(value)) if value is not None else None
    if outcome is None:
        return None
    return f"最近一次答复：{OUTCOME_ZH[outcome]}", f"last answer: {outcome.replace('_', ' ')}"


def _review_stage(value: Any, detail: Detail) -> Pair | None:
    stage = _n(value) if value is not None else 0
    if stage not in _REVIEW_ZH:
        return None
    since = detail.get("days_since_review_step")
    if since is None:
        return _REVIEW_ZH[stage], _REVIEW_EN[stage]
    days = _n(since)
    return f"{_REVIEW_ZH[stage]}（{days} 天前）", f"{_REVIEW_EN[stage]} ({days} days ago)"


def _acceleration(value: Any, _: Detail) -> Pair | None:
    if value is None or value < 1.5:
        return None
    return (
        f"近30天来信来访频率是此前的 {value:.1f} 倍",
        f"contacts in the last 30 days at {value:.1f} times the earlier rate",
    )


def _share(zh: str, en: str) -> Callable[[Any, Detail], Pair | None]:
    def say(value: Any, _: Detail) -> Pair | None:
        if value is None or value <= 0:
            return None
        return zh.format(p=f"{100 * value:.0f}"), en.format(p=f"{100 * value:.0f}")

    return say


def _ratio(zh: str, en: str, least: float) -> Callable[[Any, Detail], Pair | None]:
    return lambda v, _: None if v is None or v < least else (zh.format(x=v), en.format(x=v))


SENTENCES: dict[str, Callable[[Any, Detail], Pair | None]] = {
    # Activity: what was done lately.
    "contacts_7d": _window("近7天来信来访 {n} 次", "{n} contact{s} in the last 7 days", "contacts_30d", 23),
    "contacts_30d": _window("近30天来信来访 {n} 次", "{n} contact{s} in the last 30 days", "contacts_90d", 60),
    "contacts_90d": _count("近90天来信来访 {n} 次", "{n} contact{s} in the last 90 days"),
    "contacts_365d": _count("近一年来信来访 {n} 次", "{n} contact{s} in the last year", 2),
    "contacts_total": _count("累计来信来访 {n} 次", "{n} contacts so far", 2),
    "visits_90d": _count("近90天走访 {n} 次", "{n} visit{s} in person in the last 90 days"),
    "days_since_last_contact": _days_ago("{when}刚来信来访", "last contact {when}", 14),
    "days_since_first_contact": lambda v, _: None,  # the matter's age, never a reason alone
    "contact_acceleration": _acceleration,
    "distinct_channels": _count("通过 {n} 种渠道反映", "raised through {n} channels", 2),
    "multi_office_contacts": _count("数日内向不同层级重复反映 {n} 次", "raised at another level within days {n} time{s}"),
    "repeat_petition": _flag("重复信访（累计3次以上）", "repeat petition (3 or more contacts)"),
    "contacts_since_answer": _count("答复后又来信来访 {n} 次", "{n} contact{s} since the answer"),
    "contacts_since_closure": _count("办结后又来信来访 {n} 次", "{n} contact{s} since it was closed"),
    "contact_heat": lambda v, _: None,  # the recent counts say it in words
    "contacts_per_month": _ratio("平均每月来信来访 {x:.1f} 次", "{x:.1f} contacts a month on average", 2.0),
    "max_level": _level("曾到{level}级上访", "has reached the {level} level"),
    "last_level": _level("最近一次到{level}级上访", "last contact at the {level} level"),
    "escalation_events": _count("越级上访 {n} 次", "went over a level's head {n} time{s}"),
    "escalations_90d": _count("近90天越级上访 {n} 次", "went over a level's head {n} time{s} in the last 90 days"),
    "days_since_escalation": _days_ago("{when}越级上访", "went over a level's head {when}", 90),
    "contacts_above_county": _count("县级以上来访 {n} 次", "{n} contact{s} above the county"),
    "level_headroom": lambda v, _: None if v is None or v > 1 else ("已到省级以上", "has reached the province or higher"),
    "max_group_size": _count("最多一次 {n} 人来访", "largest group {n} people", 2),
    "last_group_size": _count("上次来访 {n} 人", "last contact by {n} people", 2),
    "group_contacts": _count("集体访 {n} 次", "{n} group contact{s}"),
    "group_contacts_30d": _window("近30天集体访 {n} 次", "{n} group contact{s} in the last 30 days", "group_contacts_90d", 60),
    "group_contacts_90d": _count("近90天集体访 {n} 次", "{n} group contact{s} in the last 90 days"),
    "group_size_growth": _count("来访人数增加 {n} 人", "group grew by {n} people"),
    "petitioner_other_cases": _count("关联事项 {n} 件", "{n} linked matter{s}"),
    "petitioner_other_high_contacts": _count("关联事项县级以上来访 {n} 次", "{n} contact{s} above the county in linked matters"),
    "petitioner_other_group_contacts": _count("关联事项集体访 {n} 次", "{n} group contact{s} in linked matters"),
    "petitioner_other_contacts_90d": _count("关联事项近90天来信来访 {n} 次", "{n} contact{s} on linked matters in the last 90 days"),
    "petitioner_other_unsatisfied": _count("关联事项不满意评价 {n} 次", "rated linked matters unsatisfied {n} time{s}"),
    "petitioner_other_open_cases": _count("另有 {n} 件关联事项在办", "{n} other linked matter{s} still open"),
    "township_family_groups_30d": _count("本乡镇同类事项近30天集体访 {n} 次", "{n} group visit{s} of similar matters in the township in 30 days"),
    "county_family_contacts_7d": lambda v, _: None,  # the surge says it
    "county_family_contact_surge": _ratio("本县同类事项近7天来访量为平时的 {x:.1f} 倍", "similar matters in the county: {x:.1f} times the usual contacts this week", 2.0),
    "county_family_groups_30d": _count("本县同类事项近30天集体访 {n} 次", "{n} group visit{s} of similar matters in the county in 30 days"),
    # Handling: what the office can change.
    "accepted": _flag("尚未受理", "not accepted yet", when=0),
    "rejected": _flag("不予受理", "not accepted (rejected)"),
    "acceptance_overdue_days": _overdue("受理已超期 {n} 天", "acceptance {n} day{s} overdue"),
    "answer_overdue_days": _overdue("答复已超期 {n} 天", "answer {n} day{s} overdue"),
    "answer_pending": _flag("待答复", "answer pending"),
    "answer_waiting_days": _waiting,
    "transfers": _count("转办 {n} 次", "transferred {n} time{s}"),
    "distinct_units": _count("{n} 个单位经手", "{n} units involved", 2),
    "answers": lambda v, _: ("尚未答复", "no answer yet") if v == 0 else None,
    "last_answer_outcome": _answer_outcome,
    "unsatisfied_ratings": _count("不满意评价 {n} 次", "rated unsatisfied {n} time{s}"),
    "satisfied_ratings": lambda v, _: None,  # a satisfied rating never explains a risk
    "days_since_unsatisfied": _days_ago("{when}评价不满意", "rated unsatisfied {when}", 60),
    "review_stage": _review_stage,
    "days_since_review_step": _days_ago("{when}复查复核", "review step {when}", 60),
    "reviews_upheld": _count("复查复核维持原意见 {n} 次", "review upheld the answer {n} time{s}"),
    "leader_receptions": lambda v, _: ("尚无领导接访", "no leader has received them") if v == 0 else None,
    "days_since_leader_reception": lambda v, _: None,
    "mediations_failed": _count("调解不成 {n} 次", "mediation failed {n} time{s}"),
    "mediations_agreed": lambda v, _: None,
    "relief_granted": lambda v, _: None,
    "reopened": _count("重新办理 {n} 次", "reopened {n} time{s}"),
    "days_since_last_action": lambda v, _: None if v is None or v < 30 else (f"已 {_n(v)} 天无办理进展", f"no handling step for {_n(v)} days"),
    # Calendar.
    "in_sensitive_period": _period(inside=True),
    "days_to_sensitive_period": _period(inside=False),
    "in_category_period": _period(inside=True),
    "days_to_category_period": _period(inside=False),
    "in_local_event": _flag("正处本地重要节点", "inside a local event"),
    # Background: shown only after the others.
    "case_age_days": lambda v, _: None if v is None or v < 90 else (f"登记已 {_n(v)} 天", f"registered {_n(v)} days ago"),
    "closed": _flag("已办结", "closed"),
    "unit_late_answer_share": _share("责任单位 {p}% 的答复超期", "{p}% of the unit's answers late"),
    "unit_transfers_per_case": _ratio("责任单位平均每件转办 {x:.1f} 次", "the unit transfers {x:.1f} times per matter", 0.5),
    "as_of_month": lambda v, _: None,
    "as_of_weekday": lambda v, _: None,
}  # fmt: skip


_CODED: dict[str, tuple[str, str, dict[str, str]]] = {
    "category": ("事项类别", "category", CATEGORY_ZH),
    "nature": ("信访性质", "nature", NATURE_ZH),
    "county_code": ("县区", "county", {}),
}


def _coded(feature: str, value: Any) -> Pair | None:
    """Category, nature, county: background, named as offices name them."""
    if value is None or feature not in _CODED:
        return None
    zh_label, en_label, names = _CODED[feature]
    return (
        f"{zh_label}：{names.get(str(value), value)}",
        f"{en_label}: {str(value).replace('_', ' ')}",
    )


# Codes the features keep as numbers, by the contract's names of what they stand for.
_LEVEL_NAMES = {code: (f"{LEVEL_ZH[name]}级", name) for code, name in enumerate(LEVELS)}
_NUMBERED: dict[str, dict[int, tuple[str, str]]] = {
    # A level by its name (省级), a month as months are said (1月): the contributions
    # chart read "到达的最高层级：5" and "月份：1".
    "max_level": _LEVEL_NAMES,
    "last_level": _LEVEL_NAMES,
    "as_of_month": {month: (f"{month}月", f"month {month}") for month in range(1, 13)},
    "last_answer_outcome": {0: ("尚未答复", "no answer yet")}
    | {code: (OUTCOME_ZH[name], name.replace("_", " ")) for name, code in ANSWER_CODE.items()},
    "review_stage": {0: ("未申请复查", "none")}
    | {
        code: (ACTION_TYPE_ZH[name], name.replace("re_", "re-").replace("_", " "))
        for name, code in REVIEW_STAGE.items()
    },
}


def value_words(feature: str, value: Any) -> Pair | None:
    """A coded value in words (征地补偿, 部分支持), or None for a feature of no codes."""
    if value is None:
        return None
    if feature in _CODED:
        names = _CODED[feature][2]
        return names.get(str(value), str(value)), str(value).replace("_", " ")
    if feature in _NUMBERED and isinstance(value, int | float):
        return _NUMBERED[feature].get(int(value))
    return None


def sentence(feature: str, value: Any, detail: Detail) -> Pair | None:
    """The reason in both languages, or None when the value says nothing about this case."""
    say = SENTENCES.get(feature)
    pair = _coded(feature, value) if say is None else say(value, detail)
    share = detail.get("share_below")
    if pair is None or share is None or feature not in CONTRASTED or share < CONTRAST_FROM:
        return pair
    percent = min(int(share * 100), 99)
    return (
        f"{pair[0]}，高于 {percent}% 的在办事项",
        f"{pair[1]}, more than {percent}% of open cases",
    )
