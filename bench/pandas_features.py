"""The baseline of bench_features: the same features, computed case by case with plain pandas.

What a first implementation usually looks like: group the tables by case, then
for each case of the population compute every feature from its own rows with
pandas operations. Context features look up per-key event frames; the calendar
family reads the same calendar index as the product (a lookup, not the point).
Two shortcuts make this baseline lighter than the product, so the measured
speed-up errs low: late answers of a unit are not matched to their acceptance
(counted as 0) and local calendar events are not looked up. Only for measuring;
the product computes features in ``earlywarn.features``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

GROUP, COUNTY, NATIONAL = 5, 2, 5
LEVELS = ["village", "township", "county", "city", "province", "national"]


def _days(delta: pd.Timedelta) -> float:
    return float(int(delta.total_seconds())) / 86_400.0


def case_features(
    case: Any, contacts: pd.DataFrame, actions: pd.DataFrame, t: pd.Timestamp
) -> dict[str, Any]:
    c = contacts[contacts["occurred_at"] <= t].sort_values("occurred_at", kind="stable")
    a = actions[actions["occurred_at"] <= t].sort_values("occurred_at", kind="stable")
    f: dict[str, Any] = {}
    rank = c["level"].map(LEVELS.index)
    for days in (7, 30, 90, 365):
        f[f"contacts_{days}d"] = int((c["occurred_at"] > t - pd.Timedelta(days=days)).sum())
    w30 = c["occurred_at"] > t - pd.Timedelta(days=30)
    w90 = c["occurred_at"] > t - pd.Timedelta(days=90)
    w120 = c["occurred_at"] > t - pd.Timedelta(days=120)
    f["contacts_total"] = len(c)
    f["visits_90d"] = int((w90 & (c["channel"] == "visit")).sum())
    f["days_since_last_contact"] = _days(t - c["occurred_at"].max()) if len(c) else None
    f["days_since_first_contact"] = _days(t - c["occurred_at"].min()) if len(c) else None
    f["contact_acceleration"] = (w30.sum() + 1) / ((w120 & ~w30).sum() / 3 + 1) if len(c) else 0
    f["distinct_channels"] = c["channel"].nunique()
    gaps = c["occurred_at"].diff().dt.total_seconds() < 3 * 86_400
    f["multi_office_contacts"] = int((gaps & (rank != rank.shift(1))).sum())
    f["repeat_petition"] = int(len(c) >= 3)
    before = rank.cummax().shift(1).fillna(COUNTY).clip(lower=COUNTY)
    escalation = rank > before
    f["max_level"] = rank.max() if len(c) else None
    f["last_level"] = rank.iloc[-1] if len(c) else None
    f["escalation_events"] = int(escalation.sum())
    f["days_since_escalation"] = (
        _days(t - c["occurred_at"][escalation].max()) if escalation.any() else None
    )
    f["contacts_above_county"] = int((rank > COUNTY).sum())
    f["level_headroom"] = NATIONAL - rank.max() if len(c) else None
    size = c["group_size"]
    f["max_group_size"] = size.max() if len(c) else None
    f["last_group_size"] = size.iloc[-1] if len(c) else None
    f["group_contacts"] = int((size >= GROUP).sum())
    f["group_contacts_30d"] = int(((size >= GROUP) & w30).sum())
    f["group_contacts_90d"] = int(((size >= GROUP) & w90).sum())
    f["group_size_growth"] = (size[w90].max() if w90.any() else 0) - (
        size[~w90].max() if (~w90).any() else 0
    )
    kind, outcome = a["action_type"], a["outcome"]
    f["case_age_days"] = _days(t - case.registered_at)
    f["accepted"] = int((kind == "accepted").any())
    f["rejected"] = int((kind == "rejected").any())
    first_accepted = a["occurred_at"][kind == "accepted"].min()
    clock = a["occurred_at"][kind.isin(["accepted", "reopened"])].max()
    last_answer = a["occurred_at"][kind == "responded"].max()
    waited = _days((first_accepted if pd.notna(first_accepted) else t) - case.registered_at)
    f["acceptance_overdue_days"] = max(waited - 15, 0.0)
    pending = pd.notna(clock) and (pd.isna(last_answer) or last_answer < clock)
    f["answer_overdue_days"] = max(_days(t - clock) - 60, 0.0) if pending else 0.0
    f["answer_pending"] = int(pending)
    f["transfers"] = int((kind == "transferred").sum())
    f["distinct_units"] = a["unit"].nunique(dropna=False)
    f["answers"] = int((kind == "responded").sum())
    answered = outcome[kind == "responded"]
    codes = {"supported": 1, "partly_supported": 2, "not_supported": 3}
    f["last_answer_outcome"] = codes.get(answered.iloc[-1], 0) if len(answered) else 0
    f["unsatisfied_ratings"] = int(((kind == "satisfaction") & (outcome == "unsatisfied")).sum())
    f["satisfied_ratings"] = int(((kind == "satisfaction") & (outcome == "satisfied")).sum())
    stages = {
        "review_requested": 1,
        "review_decided": 2,
        "re_review_requested": 3,
        "re_review_decided": 4,
    }
    f["review_stage"] = int(kind.map(stages).fillna(0).max()) if len(a) else 0
    review_at = a["occurred_at"][kind.isin(list(stages))].max()
    f["days_since_review_step"] = _days(t - review_at) if pd.notna(review_at) else None
    f["reviews_upheld"] = int(
        (kind.isin(["review_decided", "re_review_decided"]) & (outcome == "upheld")).sum()
    )
    f["leader_receptions"] = int((kind == "leader_reception").sum())
    leader_at = a["occurred_at"][kind == "leader_reception"].max()
    f["days_since_leader_reception"] = _days(t - leader_at) if pd.notna(leader_at) else None
    f["mediations_failed"] = int(((kind == "mediation") & (outcome == "failed")).sum())
    f["mediations_agreed"] = int(((kind == "mediation") & (outcome == "agreed")).sum())
    f["relief_granted"] = int((kind == "relief_granted").sum())
    closed_at = a["occurred_at"][kind == "closed"].max()
    reopened_at = a["occurred_at"][kind == "reopened"].max()
    f["closed"] = int(pd.notna(closed_at) and (pd.isna(reopened_at) or closed_at > reopened_at))
    f["reopened"] = int((kind == "reopened").sum())
    f["days_since_last_action"] = _days(t - a["occurred_at"].max()) if len(a) else None
    return f


def context_features(
    case: Any, own: dict[str, Any], context: dict[str, pd.DataFrame], t: pd.Timestamp
) -> dict[str, Any]:
    """Per-case filters over the whole event frames: the plain way."""
    petitioner = context["petitioner"]
    mine = petitioner[(petitioner["petitioner_id"] == case.petitioner_id) & (petitioner["at"] <= t)]
    groups = context["groups"]
    same = (
        (groups["family"] == case.family)
        & (groups["at"] > t - pd.Timedelta(days=30))
        & (groups["at"] <= t)
    )
    units = context["unit"]
    unit = units[(units["unit"] == case.responsible_unit) & (units["at"] <= t)]
    answers = unit["answers"].sum()
    return {
        "petitioner_other_cases": max(int(mine["cases"].sum()) - 1, 0),
        "petitioner_other_high_contacts": int(mine["high"].sum()) - own["contacts_above_county"],
        "petitioner_other_group_contacts": int(mine["groups"].sum()) - own["group_contacts"],
        "township_family_groups_30d": max(
            int((same & (groups["township_code"] == case.township_code)).sum())
            - own["group_contacts_30d"],
            0,
        ),
        "county_family_groups_30d": max(
            int((same & (groups["county_code"] == case.county_code)).sum())
            - own["group_contacts_30d"],
            0,
        ),
        "unit_late_answer_share": unit["late"].sum() / answers if answers else None,
        "unit_transfers_per_case": unit["transfers"].sum() / max(unit["owned"].sum(), 1),
    }


def calendar_features(case: Any, t: pd.Timestamp, calendar: Any) -> dict[str, Any]:
    day = (t.date() - calendar.first_day).days
    category = int(case.category_index)
    return {
        "in_sensitive_period": int(calendar.national[day]),
        "days_to_sensitive_period": int(calendar.national_next[day]),
        "in_category_period": int(calendar.category[day, category]),
        "days_to_category_period": int(calendar.category_next[day, category]),
        "in_local_event": 0,
        "as_of_month": t.month,
        "as_of_weekday": t.weekday(),
    }


def features_per_case(
    population: pd.DataFrame,
    contacts: pd.DataFrame,
    actions: pd.DataFrame,
    context: dict[str, pd.DataFrame],
    calendar: Any,
    as_of: dt.datetime,
) -> pd.DataFrame:
    """One dict per case of ``population`` (a pandas frame of case rows), as a DataFrame."""
    t = pd.Timestamp(as_of)
    # Grouped for the measured cases only: a million small frames would not fit in memory.
    wanted = set(population["case_id"])
    by_case_contacts = dict(tuple(contacts[contacts["case_id"].isin(wanted)].groupby("case_id")))
    by_case_actions = dict(tuple(actions[actions["case_id"].isin(wanted)].groupby("case_id")))
    empty_c, empty_a = contacts.iloc[:0], actions.iloc[:0]
    rows = []
    for case in population.itertuples():
        own = case_features(
            case,
            by_case_contacts.get(case.case_id, empty_c),
            by_case_actions.get(case.case_id, empty_a),
            t,
        )
        own |= context_features(case, own, context, t) | calendar_features(case, t, calendar)
        own |= {
            "case_id": case.case_id,
            "category": case.category,
            "nature": case.nature,
            "county_code": case.county_code,
        }
        rows.append(own)
    return pd.DataFrame(rows)


def context_frames(
    cases: pd.DataFrame, contacts: pd.DataFrame, actions: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """Event frames the per-case context lookups filter (built once, like a first implementation would)."""
    marked = contacts.merge(
        cases[["case_id", "petitioner_id", "township_code", "county_code", "family"]], on="case_id"
    )
    marked["high"] = marked["level"].isin(["city", "province", "national"]).astype(int)
    marked["groups"] = (marked["group_size"] >= GROUP).astype(int)
    registrations = (
        cases[["petitioner_id", "registered_at"]]
        .rename(columns={"registered_at": "at"})
        .assign(cases=1, high=0, groups=0)
    )
    petitioner = pd.concat(
        [
            registrations,
            marked.rename(columns={"occurred_at": "at"})[
                ["petitioner_id", "at", "high", "groups"]
            ].assign(cases=0),
        ]
    )
    groups = marked[marked["groups"] > 0].rename(columns={"occurred_at": "at"})
    owned = (
        cases[["responsible_unit", "registered_at"]]
        .rename(columns={"responsible_unit": "unit", "registered_at": "at"})
        .assign(owned=1)
    )
    transfers = (
        actions[actions["action_type"] == "transferred"][["unit", "occurred_at"]]
        .rename(columns={"occurred_at": "at"})
        .assign(transfers=1)
    )
    answers = (
        actions[actions["action_type"] == "responded"][["unit", "occurred_at"]]
        .rename(columns={"occurred_at": "at"})
        .assign(answers=1, late=0)
    )
    unit = pd.concat([owned, transfers, answers]).fillna(0)
    return {
        "petitioner": petitioner,
        "groups": groups,
        "unit": unit,
        "_n": pd.DataFrame({"n": [np.int64(len(cases))]}),
    }
