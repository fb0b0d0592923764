"""The online path: every catalogued feature of one posted case, in numpy, under a millisecond.

The batch path (Polars, ``build.py``) and this path are two engines for one
meaning: each function here mirrors the expression of the same name in
``events.py`` (the case's surroundings, ``context.py`` and ``sensitive.py``, are
mirrored in ``online_context.py``), and a parity test holds the two equal on a
thousand (case, as-of) pairs. Mirror the details when changing
either side: strict windows ``t > as_of - N days``, whole seconds, stable time
order, and which features are 0 and which missing when there are no rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from earlywarn.contract.rules import (
    ACCEPT_CLOCK_DAYS,
    ANSWER_CLOCK_DAYS,
    ANSWER_CODE,
    GROUP_THRESHOLD,
    REVIEW_DECISIONS,
    REVIEW_STAGE,
)
from earlywarn.contract.spec import CATEGORIES, LEVELS
from earlywarn.features.catalogue import CASE_STATE, FEATURE_NAMES
from earlywarn.features.events import HEAT_DAYS, HEAT_UNITS
from earlywarn.features.online_context import OnlineSources, calendar_values, context_values

_US_PER_SECOND = 1_000_000
_DAY_SECONDS = 86_400.0
_COUNTY = LEVELS.index("county")
_NATIONAL = LEVELS.index("national")
_CATEGORY_INDEX = {c: i for i, c in enumerate(CATEGORIES)}
_LEVEL_INDEX = {name: i for i, name in enumerate(LEVELS)}


def _micros(moment: dt.datetime) -> int:
    return int(np.datetime64(moment, "us").astype(np.int64))


def _days(seconds_us: np.ndarray | int) -> Any:
    """Whole seconds (truncated, as Polars' total_seconds) in days."""
    return np.trunc(np.asarray(seconds_us) / _US_PER_SECOND) / _DAY_SECONDS


@dataclass
class CaseRows:
    """One case as the API receives it, in arrays: times in microseconds."""

    case_id: str
    petitioner_id: str
    registered_at: int
    county_code: str
    township_code: str | None
    category: str
    nature: str | None
    responsible_unit: str | None
    contact_at: np.ndarray
    level: np.ndarray  # rank 0 village ... 5 national
    channel: np.ndarray  # strings
    group_size: np.ndarray
    action_at: np.ndarray | None  # None: no handling history at all
    action_type: np.ndarray | None
    unit: np.ndarray | None
    outcome: np.ndarray | None

    @classmethod
    def from_frames(
        cls, case: pl.DataFrame, contacts: pl.DataFrame, actions: pl.DataFrame | None
    ) -> CaseRows:
        """From the loader's typed tables limited to one case."""
        row = case.row(0, named=True)

        def micros(frame: pl.DataFrame) -> np.ndarray:
            return frame["occurred_at"].cast(pl.Datetime("us")).to_numpy().astype(np.int64)

        return cls(
            case_id=row["case_id"],
            petitioner_id=row["petitioner_id"],
            registered_at=_micros(row["registered_at"]),
            county_code=row["county_code"],
            township_code=row["township_code"],
            category=str(row["category"]),
            nature=None if row["nature"] is None else str(row["nature"]),
            responsible_unit=row["responsible_unit"],
            contact_at=micros(contacts),
            level=contacts["level"].cast(pl.String).replace_strict(_LEVEL_INDEX).to_numpy(),
            channel=contacts["channel"].cast(pl.String).to_numpy(),
            group_size=contacts["group_size"].to_numpy(),
            action_at=None if actions is None else micros(actions),
            action_type=None
            if actions is None
            else actions["action_type"].cast(pl.String).to_numpy(),
            unit=None if actions is None else actions["unit"].to_numpy(),
            outcome=None if actions is None else actions["outcome"].cast(pl.String).to_numpy(),
        )


def _contact_features(rows: CaseRows, now: int) -> dict[str, Any]:
    keep = rows.contact_at <= now
    order = np.argsort(rows.contact_at[keep], kind="stable")
    at = rows.contact_at[keep][order]
    rank = rows.level[keep][order].astype(np.int64)
    size = rows.group_size[keep][order]
    channel = rows.channel[keep][order]
    n = at.size
    if n == 0:
        zeros = dict.fromkeys(_CONTACT_COUNTS, 0)
        return zeros | dict.fromkeys(_CONTACT_MISSING)

    def within(days: int) -> np.ndarray:
        return at > now - days * 86_400 * _US_PER_SECOND

    w30, w90, w120 = within(30), within(90), within(120)
    before = np.maximum(np.concatenate([[_COUNTY], np.maximum.accumulate(rank)[:-1]]), _COUNTY)
    escalation = rank > before
    gaps = np.diff(at)
    close = (np.trunc(gaps / _US_PER_SECOND) < 3 * _DAY_SECONDS) & (rank[1:] != rank[:-1])
    group = size >= GROUP_THRESHOLD
    recent_max = size[w90].max() if w90.any() else 0
    older_max = size[~w90].max() if (~w90).any() else 0
    return {
        "contacts_7d": int(within(7).sum()),
        "contacts_30d": int(w30.sum()),
        "contacts_90d": int(w90.sum()),
        "contacts_365d": int(within(365).sum()),
        "contacts_total": n,
        "visits_90d": int((w90 & (channel == "visit")).sum()),
        "days_since_last_contact": float(_days(now - at.max())),
        "days_since_first_contact": float(_days(now - at.min())),
        "contact_acceleration": (w30.sum() + 1.0) / ((w120 & ~w30).sum() / 3.0 + 1.0),
        "distinct_channels": len(set(channel.tolist())),
        "multi_office_contacts": int(close.sum()),
        "repeat_petition": int(n >= 3),
        "contacts_per_month": n / max(float(_days(now - at.min())), 30.0) * 30.0,
        "contact_heat": float(
            np.floor(np.exp(-_days(now - at) / HEAT_DAYS) * HEAT_UNITS + 0.5).astype(np.int64).sum()
            / HEAT_UNITS
        ),
        "max_level": int(rank.max()),
        "last_level": int(rank[-1]),
        "escalation_events": int(escalation.sum()),
        "days_since_escalation": float(_days(now - at[escalation].max()))
        if escalation.any()
        else None,
        "escalations_90d": int((escalation & w90).sum()),
        "contacts_above_county": int((rank > _COUNTY).sum()),
        "level_headroom": int(_NATIONAL - rank.max()),
        "max_group_size": int(size.max()),
        "last_group_size": int(size[-1]),
        "group_contacts": int(group.sum()),
        "group_contacts_30d": int((group & w30).sum()),
        "group_contacts_90d": int((group & w90).sum()),
        "group_size_growth": int(recent_max - older_max),
    }


_CONTACT_MISSING = (
    "days_since_last_contact", "days_since_first_contact", "max_level", "last_level",
    "days_since_escalation", "level_headroom", "max_group_size", "last_group_size",
)  # fmt: skip
_CONTACT_COUNTS = (
    "contacts_7d", "contacts_30d", "contacts_90d", "contacts_365d", "contacts_total", "visits_90d",
    "contact_acceleration", "distinct_channels", "multi_office_contacts", "repeat_petition",
    "contacts_per_month", "contact_heat", "escalation_events", "escalations_90d",
    "contacts_above_county", "group_contacts", "group_contacts_30d", "group_contacts_90d",
    "group_size_growth",
)  # fmt: skip
_ACTION_NAMES = (
    "accepted", "rejected", "transfers", "distinct_units", "answers", "last_answer_outcome",
    "unsatisfied_ratings", "satisfied_ratings", "days_since_unsatisfied", "review_stage",
    "days_since_review_step",
    "reviews_upheld", "leader_receptions", "days_since_leader_reception", "mediations_failed",
    "mediations_agreed", "relief_granted", "closed", "reopened", "days_since_last_action",
    "acceptance_overdue_days", "answer_overdue_days", "answer_pending", "answer_waiting_days",
)  # fmt: skip


def _action_features(rows: CaseRows, now: int) -> dict[str, Any]:
    if (
        rows.action_at is None
        or rows.action_type is None
        or rows.unit is None
        or rows.outcome is None
    ):
        # no handling history: missing, not zero
        return dict.fromkeys(_ACTION_NAMES) | _no_steps_state(rows)
    keep = rows.action_at <= now
    order = np.argsort(rows.action_at[keep], kind="stable")
    at = rows.action_at[keep][order]
    kind = rows.action_type[keep][order]
    outcome = rows.outcome[keep][order]
    units = rows.unit[keep][order]

    kinds = kind.tolist()  # a case's few actions: Python's ``in`` beats ``np.isin`` here

    def of_types(types: tuple[str, ...]) -> np.ndarray:
        return np.fromiter((k in types for k in kinds), dtype=bool, count=len(kinds))

    def last(*types: str) -> int | None:
        chosen = at[of_types(types)]
        return int(chosen.max()) if chosen.size else None

    def count(action_type: str, result: str | None = None) -> int:
        match = kind == action_type
        if result is not None:
            match &= outcome == result
        return int(match.sum())

    def since(moment: int | None) -> float | None:
        return None if moment is None else float(_days(now - moment))

    answered = outcome[kind == "responded"]
    unhappy = at[(kind == "satisfaction") & (outcome == "unsatisfied")]
    accepted_at = at[kind == "accepted"]
    first_accepted = int(accepted_at.min()) if accepted_at.size else None
    clock = last("accepted", "reopened")
    last_answer = last("responded")
    closed, reopened = last("closed"), last("reopened")
    pending = clock is not None and (last_answer is None or last_answer < clock)
    waited = _days((first_accepted if first_accepted is not None else now) - rows.registered_at)
    return {
        "accepted": int(count("accepted") > 0),
        "rejected": int(count("rejected") > 0),
        "transfers": count("transferred"),
        "distinct_units": len(set(units.tolist())),
        "answers": count("responded"),
        "last_answer_outcome": ANSWER_CODE.get(answered[-1], 0) if answered.size else 0,
        "unsatisfied_ratings": count("satisfaction", "unsatisfied"),
        "satisfied_ratings": count("satisfaction", "satisfied"),
        "days_since_unsatisfied": since(int(unhappy.max()) if unhappy.size else None),
        "review_stage": max((REVIEW_STAGE.get(k, 0) for k in kinds), default=0),
        "days_since_review_step": since(last(*REVIEW_STAGE)),
        "reviews_upheld": int((of_types(REVIEW_DECISIONS) & (outcome == "upheld")).sum()),
        "leader_receptions": count("leader_reception"),
        "days_since_leader_reception": since(last("leader_reception")),
        "mediations_failed": count("mediation", "failed"),
        "mediations_agreed": count("mediation", "agreed"),
        "relief_granted": count("relief_granted"),
        "closed": int(
            closed is not None and closed > (reopened if reopened is not None else -(2**62))
        ),
        "reopened": count("reopened"),
        "days_since_last_action": since(int(at.max())) if at.size else None,
        "acceptance_overdue_days": max(float(waited) - ACCEPT_CLOCK_DAYS, 0.0),
        "answer_overdue_days": max(float(_days(now - clock)) - ANSWER_CLOCK_DAYS, 0.0)
        if pending and clock is not None
        else 0.0,
        "answer_pending": int(pending),
        "answer_waiting_days": float(_days(now - clock)) if pending and clock is not None else None,
        "days_since_mediation": since(last("mediation")),
        "days_since_assignment": since(last("assigned")),
        "handling_unit": next(
            (str(u) for u in reversed(units.tolist()) if u is not None), rows.responsible_unit
        ),
    }


def _contacts_since(rows: CaseRows, now: int) -> dict[str, int | None]:
    """As events.contacts_since: contacts after the latest answer and the latest closure
    up to ``now`` (missing without such a step)."""
    if rows.action_at is None or rows.action_type is None:
        return {"contacts_since_answer": None, "contacts_since_closure": None}
    contacts = rows.contact_at[rows.contact_at <= now]
    at, kind = rows.action_at, rows.action_type

    def after(action_type: str) -> int | None:
        moments = at[(at <= now) & (kind == action_type)]
        return int((contacts > moments.max()).sum()) if moments.size else None

    return {"contacts_since_answer": after("responded"), "contacts_since_closure": after("closed")}


def _no_steps_state(rows: CaseRows) -> dict[str, Any]:
    return {
        "days_since_mediation": None,
        "days_since_assignment": None,
        "handling_unit": rows.responsible_unit,
    }


def online_features(rows: CaseRows, as_of: dt.datetime, lookup: OnlineSources) -> dict[str, Any]:
    """Every feature of the catalogue for one case at ``as_of``, by name, in catalogue order,
    then the case-state values."""
    now = _micros(as_of)
    values = _contact_features(rows, now) | _action_features(rows, now)
    values["case_age_days"] = float(_days(now - rows.registered_at))
    values |= _contacts_since(rows, now)
    values |= context_values(rows, now, values, lookup) | calendar_values(rows, as_of, lookup)
    values |= {"category": rows.category, "nature": rows.nature, "county_code": rows.county_code}
    return {name: values[name] for name in (*FEATURE_NAMES, *CASE_STATE)}
