"""What changed since the last list, for each case a person will read.

For the medium and high rows of a day's list: whether the case is new on the list
(low or absent on the previous stored list), how far each probability moved, and
the events behind it, found by comparing the same features at the previous list's
moment (a new group visit, an answer that became overdue). Kept as JSON with the
row (``changes``); the page, the API's list route and the ledger put it in words.

Each list saves the few features the comparison needs, with its bands and
probabilities, for its whole population (``BASIS`` beside the list's files), so the
next day reads them instead of computing the features again at the earlier moment;
without that file (a list made before it existed, a file lost), and for the cases
new to the population since, they are computed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from earlywarn.contract.rules import TARGET_NAMES, TARGETS
from earlywarn.files import compact_json
from earlywarn.models.steps import PERIOD_AHEAD_DAYS
from earlywarn.serving.store import RiskList, RiskListItem

_BEFORE = "_before"  # the suffix of the features at the earlier moment


def _more(name: str) -> pl.Expr:
    """How many more of a count the case has now than before."""
    now, before = (pl.col(f"{name}{at}").cast(pl.Int64).fill_null(0) for at in ("", _BEFORE))
    return (now - before).clip(lower_bound=0)


def _became(test: Callable[[str], pl.Expr]) -> Callable[[], pl.Expr]:
    """1 when a condition holds now and did not before."""
    return lambda: (test("") & ~test(_BEFORE)).cast(pl.Int64)


def _overdue(name: str) -> Callable[[str], pl.Expr]:
    return lambda suffix: pl.col(f"{name}{suffix}").fill_null(0) > 0


def _period_near(suffix: str) -> pl.Expr:
    days = pl.col(f"days_to_category_period{suffix}")
    return (days <= PERIOD_AHEAD_DAYS).fill_null(False)


# event -> (中文, English with {n}, how many happened between the two moments: an
# expression over the features now and, suffixed ``_before``, at the earlier moment)
EVENTS: dict[str, tuple[str, str, Callable[[], pl.Expr]]] = {
    "new_group": ("新的集体访 {n} 次", "{n} new group contact(s)", lambda: _more("group_contacts")),
    "new_escalation": ("新的越级上访 {n} 次", "went over a level's head {n} more time(s)",
                       lambda: _more("escalation_events")),
    "new_contacts": ("新来信来访 {n} 次", "{n} new contact(s)", lambda: _more("contacts_total")),
    "answer_overdue": ("答复转为超期", "the answer became overdue",
                       _became(_overdue("answer_overdue_days"))),
    "acceptance_overdue": ("受理转为超期", "acceptance became overdue",
                           _became(_overdue("acceptance_overdue_days"))),
    "unsatisfied": ("新的不满意评价", "rated unsatisfied again",
                    lambda: _more("unsatisfied_ratings")),
    "review_upheld": ("复查复核维持原意见", "a review upheld the answer",
                      lambda: _more("reviews_upheld")),
    "mediation_failed": ("调解不成", "a mediation failed", lambda: _more("mediations_failed")),
    "transferred": ("再次转办", "transferred again", lambda: _more("transfers")),
    "reopened": ("重新办理", "reopened", lambda: _more("reopened")),
    "period_near": (f"进入敏感节点前{PERIOD_AHEAD_DAYS}天",
                    f"a sensitive period is now within {PERIOD_AHEAD_DAYS} days",
                    _became(_period_near)),
}  # fmt: skip
NEEDED = sorted(
    {"group_contacts", "escalation_events", "contacts_total", "answer_overdue_days",
     "acceptance_overdue_days", "unsatisfied_ratings", "reviews_upheld", "mediations_failed",
     "transfers", "reopened", "days_to_category_period"}
)  # fmt: skip


BASIS = "change-basis.parquet"
_PROBABILITIES = [f"{t}_probability" for t in TARGETS]


def change_basis(features: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    """What the next day's list compares with: per case of the population, its band,
    probabilities and the features of ``EVENTS``."""
    return (
        items.select("case_id", "risk_band", *_PROBABILITIES)
        .join(features.select("case_id", *NEEDED), on="case_id", how="left")
        .sort("case_id")
    )


def read_basis(folder: Path) -> pl.DataFrame | None:
    """A list's saved basis, or None when it is missing or unreadable (then computed)."""
    try:
        return pl.read_parquet(folder / BASIS)
    except (OSError, pl.exceptions.PolarsError):
        return None


@dataclass(frozen=True)
class PreviousList:
    list_id: int
    list_date: dt.date
    as_of: dt.datetime
    rows: dict[str, tuple[str, float, float]]  # case -> band, escalation, collective

    def with_rows(self, session: Session, items: pl.DataFrame) -> PreviousList:
        """The previous rows of the cases a person will read on the new list."""
        cases = items.filter(pl.col("risk_band") != "low")["case_id"].to_list()
        rows: dict[str, tuple[str, float, float]] = {}
        for start in range(0, len(cases), 500):  # bound the IN list
            found = session.execute(
                select(
                    RiskListItem.case_id,
                    RiskListItem.risk_band,
                    RiskListItem.escalation_probability,
                    RiskListItem.collective_probability,
                ).where(
                    RiskListItem.list_id == self.list_id,
                    RiskListItem.case_id.in_(cases[start : start + 500]),
                )
            ).all()
            rows |= {case: (band, e, c) for case, band, e, c in found}
        return PreviousList(self.list_id, self.list_date, self.as_of, rows)

    def with_basis(self, basis: pl.DataFrame, items: pl.DataFrame) -> PreviousList:
        """``with_rows`` from the previous list's saved basis (the same values)."""
        listed = items.filter(pl.col("risk_band") != "low").select("case_id")
        found = basis.join(listed, on="case_id").select("case_id", "risk_band", *_PROBABILITIES)
        rows = {case: (band, e, c) for case, band, e, c in found.iter_rows()}
        return PreviousList(self.list_id, self.list_date, self.as_of, rows)


def previous_list(session: Session, day: dt.date) -> PreviousList | None:
    """The latest stored list before ``day`` (its rows are read by ``with_rows``)."""
    header = session.scalars(
        select(RiskList).where(RiskList.list_date < day).order_by(RiskList.list_date.desc())
    ).first()
    if header is None:
        return None
    return PreviousList(header.id, header.list_date, header.as_of, {})


def _event_counts(now: pl.DataFrame, before: pl.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """Per case of ``now`` (case_id and ``NEEDED``), the events since ``before`` (the same
    columns at the earlier moment); none for a case that was not in the population then."""
    joined = now.join(
        before.select("case_id", *NEEDED).with_columns(pl.lit(True).alias("_known")),
        on="case_id",
        how="left",
        suffix=_BEFORE,
    )
    counts = joined.select(
        "case_id",
        pl.col("_known").fill_null(False),
        *(count().alias(k) for k, (_, _, count) in EVENTS.items()),
    )
    keys = list(EVENTS)
    return {
        case_id: [{"event": k, "n": n} for k, n in zip(keys, row, strict=True) if n]
        if known
        else []
        for case_id, known, *row in counts.iter_rows()
    }


def list_changes(
    earlier: Callable[[pl.DataFrame], pl.DataFrame],
    features: pl.DataFrame,
    items: pl.DataFrame,
    previous: PreviousList | None,
    basis: pl.DataFrame | None = None,
) -> list[str]:
    """Per row of ``items`` (the day's list in order), its changes as JSON; ``{}`` for low
    rows and when there is no earlier list. ``features``: case_id and ``NEEDED`` for (at
    least) the listed rows; ``earlier``: features of (case_id, as_of) pairs at the previous
    list's moment; ``basis``: the previous list's saved one."""
    if previous is None:
        return ["{}"] * items.height
    listed = items.filter(pl.col("risk_band") != "low")["case_id"]
    saved = pl.DataFrame() if basis is None else basis.join(listed.to_frame(), on="case_id")
    # The cases the basis does not hold (all of them without one; otherwise those new to
    # the population) are computed at the earlier moment.
    missing = listed.filter(~listed.is_in(saved["case_id"].implode())) if saved.height else listed
    pairs = pl.DataFrame({"case_id": missing, "as_of": [previous.as_of] * missing.len()})
    pairs = pairs.cast({"as_of": pl.Datetime("us")})
    before = [
        frame.select("case_id", *NEEDED)
        for frame in (saved, earlier(pairs) if missing.len() else None)
        if frame is not None and frame.height
    ]
    now = features.join(listed.to_frame(), on="case_id").select("case_id", *NEEDED)
    events = _event_counts(
        now, pl.concat(before, how="vertical_relaxed") if before else now.clear()
    )
    changes = ["{}"] * items.height  # low rows: most of a list
    read = items.with_row_index("_row").filter(pl.col("risk_band") != "low")
    for row in read.select("_row", "case_id", *(f"{t}_probability" for t in TARGETS)).rows():
        number, case_id, *probabilities = row
        old = previous.rows.get(case_id)
        change: dict[str, Any] = {
            "since": previous.list_date.isoformat(),
            "new": old is None or old[0] == "low",
            "band_before": None if old is None else old[0],
            "delta": None
            if old is None
            else {
                t: round(p - q, 6) for t, p, q in zip(TARGETS, probabilities, old[1:], strict=True)
            },
            "events": events[case_id],
        }
        changes[number] = compact_json(change)
    return changes


def change_words(text: str | None, language: str) -> list[str]:
    """A row's changes as short phrases: new on the list, risk up or down, the events."""
    change = json.loads(text or "{}")
    if not change:
        return []
    zh = language == "zh"
    words = []
    if change.get("new"):
        words.append("新上榜" if zh else "new on the list")
    delta = change.get("delta") or {}
    for target in TARGETS:
        points = 100 * float(delta.get(target, 0.0))
        if abs(points) >= 1:
            name = TARGET_NAMES[target]
            arrow = "↑" if points > 0 else "↓"
            words.append(
                f"{name[0]}风险{arrow}{abs(points):.1f}个百分点"
                if zh
                else f"{name[1]} risk {arrow} {abs(points):.1f} points"
            )
    moved = bool(words) and not change.get("new")
    for event in change.get("events", []):
        if event["event"] in EVENTS:
            zh_words, en_words, _ = EVENTS[event["event"]]
            words.append((zh_words if zh else en_words).format(n=event["n"]))
    if moved and not change.get("events"):
        # The same record read a day later (the case a day older, a clock nearer):
        # said, so that a reviewer does not look for an event that did not happen.
        words.append(
            "无新事件，随时间推移重新评估" if zh else "no new event: re-read as time passed"
        )
    return words or ["无明显变化" if zh else "no notable change"]
