"""Turn the simulated history into the contract's tables, as an office would export it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from earlywarn.contract.spec import (
    ACTION_TYPES,
    CASES,
    CATEGORIES,
    CHANNELS,
    LEVELS,
    NATURES,
    OUTCOMES,
)
from earlywarn.contract.synthetic import pseudonyms
from earlywarn.simulator.engine import Recorder, Timeline
from earlywarn.simulator.state import Cases
from earlywarn.simulator.world import World

# Short grievance texts by category; a few carry a phone number, as real ones do.
SUMMARIES: dict[str, tuple[str, ...]] = {
    "land_requisition": ("反映征地补偿款未足额发放", "对征地补偿标准有异议，要求重新核算"),
    "demolition_resettlement": ("反映拆迁安置房迟迟未交付", "对拆迁评估价格不满"),
    "land_dispute": ("反映宅基地界址纠纷", "承包地被他人占用，要求处理"),
    "wage_arrears": ("反映工程项目拖欠农民工工资", "企业拖欠工资数月未发"),
    "social_security": ("反映低保资格被取消", "社保待遇核定有误，要求更正"),
    "cadre_conduct": ("反映村干部作风问题", "举报干部优亲厚友"),
    "village_affairs": ("反映村务不公开", "对村委会换届选举程序有异议"),
    "neighbor_dispute": ("邻里排水纠纷", "邻居加盖房屋影响采光"),
    "economic_dispute": ("反映借款纠纷", "合同款项纠纷要求协调"),
    "law_litigation": ("对法院判决执行不满", "反映案件执行难"),
    "reservoir_migration": ("反映库区移民后扶资金问题",),
    "enterprise_restructuring": ("企业改制职工安置问题",),
    "veterans_resettlement": ("退役军人安置待遇问题",),
    "retiree_benefits": ("离退休人员待遇问题", "养老金调整标准有异议"),
    "environment": ("反映企业排污扰民", "养殖场气味影响生活"),
    "urban_management": ("反映占道经营问题", "对违建拆除处理不满"),
    "other": ("其他诉求",),
}
PHONE_SHARE = 0.01


@dataclass
class CaseRegistry:
    """The static facts of every case ever registered, kept after the case goes quiet."""

    parts: list[Cases] = field(default_factory=list)

    def add(self, cases: Cases) -> None:
        self.parts.append(cases.take(np.arange(len(cases))))


def moments_in_days(
    day: np.ndarray,
    start: dt.date,
    office_hours: np.ndarray,
    rng: np.random.Generator,
    order: np.ndarray | None = None,
) -> pl.Series:
    """A moment inside each day: office hours for visits, letters and steps; else 7:00-23:00.

    ``order`` spaces same-day steps a few minutes apart in process order.
    """
    seconds = np.where(
        office_hours,
        rng.integers(8 * 3600 + 1800, 16 * 3600 + 1800, day.size),
        rng.integers(7 * 3600, 23 * 3600, day.size),
    )
    if order is not None:
        seconds = seconds + order.astype(np.int64) * 180
    base = np.datetime64(start.isoformat(), "s")
    moments = (
        base
        + day.astype("timedelta64[D]").astype("timedelta64[s]")
        + seconds.astype("timedelta64[s]")
    )
    return pl.Series(moments.astype("datetime64[us]"))


def _collect(parts: list[tuple[np.ndarray, ...]], columns: int) -> list[np.ndarray]:
    if not parts:
        return [np.zeros(0, dtype=np.int64) for _ in range(columns)]
    return [np.concatenate([part[i] for part in parts]) for i in range(columns)]


def contact_frame(
    parts: list[tuple[np.ndarray, ...]],
    timeline: Timeline,
    rng: np.random.Generator,
    first_id: int = 0,
) -> pl.DataFrame:
    """Recorded contacts as the contract's rows, in time order, ids from ``first_id``."""
    number, _, day, channel, level, size = _collect(parts, 6)
    order = np.lexsort((number, day))
    number, day, channel, level, size = (
        number[order],
        day[order],
        channel[order],
        level[order],
        size[order],
    )
    office = channel != CHANNELS.index("online")
    contacts = pl.DataFrame(
        {
            "contact_id": pseudonyms("K", first_id + np.arange(number.size), 9),
            "case_id": pseudonyms("C", number, 8),
            "occurred_at": moments_in_days(day, timeline.start, office, rng),
            "channel": pl.Series(np.array(CHANNELS)[channel]),
            "level": pl.Series(np.array(LEVELS)[level]),
            "group_size": pl.Series(size, dtype=pl.Int32),
        }
    ).sort("occurred_at", "case_id", maintain_order=True)
    return contacts.with_columns(
        pseudonyms("K", first_id + np.arange(contacts.height), 9).alias("contact_id")
    )


def action_frame(
    parts: list[tuple[np.ndarray, ...]],
    world: World,
    timeline: Timeline,
    rng: np.random.Generator,
    first_id: int = 0,
) -> pl.DataFrame:
    """Recorded handling steps as the contract's rows, in time order, ids from ``first_id``."""
    a_number, _, a_day, a_type, a_unit, a_outcome = _collect(parts, 6)
    outcome = np.array([*OUTCOMES, ""], dtype=object)[
        np.where(a_outcome < 0, len(OUTCOMES), a_outcome)
    ]
    actions = (
        pl.DataFrame(
            {
                "case_id": pseudonyms("C", a_number, 8),
                "occurred_at": moments_in_days(
                    a_day, timeline.start, np.ones(a_day.size, dtype=bool), rng, a_type
                ),
                "action_type": pl.Series(np.array(ACTION_TYPES)[a_type]),
                "unit": pl.Series(np.array(world.unit_codes)[a_unit]),
                "outcome": pl.Series(outcome.tolist(), dtype=pl.String).replace("", None),
            }
        )
        .with_row_index("_order")
        .sort("occurred_at", "_order")
        .drop("_order")
    )
    return actions.select(
        pseudonyms("A", first_id + np.arange(actions.height), 9).alias("action_id"), pl.all()
    )


def case_frame(
    cases: Cases, world: World, summary: list[str] | None, contacts: pl.DataFrame
) -> pl.DataFrame:
    """The cases' static facts; a case is registered at its first contact (in ``contacts``).
    ``summary`` None: no texts (the value study, whose features never read them)."""
    first = contacts.group_by("case_id").agg(pl.col("occurred_at").min().alias("registered_at"))
    category = np.array(CATEGORIES)[cases.category]
    table = pl.DataFrame(
        {
            "case_id": pseudonyms("C", cases.case_number, 8),
            "petitioner_id": pseudonyms("P", cases.petitioner, 8),
            "county_code": pl.Series(np.array(world.county_codes)[cases.county]),
            "township_code": pl.Series(np.array(world.township_codes)[cases.township]),
            "category": pl.Series(category),
            "nature": pl.Series(np.array(NATURES)[cases.nature]),
            "responsible_unit": pl.Series(np.array(world.unit_codes)[cases.unit]),
            "summary": pl.Series(summary or [None] * len(cases), dtype=pl.String),
        }
    ).join(first, on="case_id", how="left")
    return table.select(CASES.column_names)


def build_tables(
    registry: CaseRegistry,
    recorder: Recorder,
    world: World,
    timeline: Timeline,
    rng: np.random.Generator,
) -> dict[str, pl.DataFrame]:
    """cases, contacts and actions; times in office local time, ids as pseudonyms."""
    cases = Cases.concat(registry.parts)
    contacts = contact_frame(recorder.contact_parts, timeline, rng)
    actions = action_frame(recorder.action_parts, world, timeline, rng)
    summary = _summaries(np.array(CATEGORIES)[cases.category], rng)
    return {"cases": case_frame(cases, world, summary, contacts), "contacts": contacts,
            "actions": actions}  # fmt: skip


def _summaries(category: np.ndarray, rng: np.random.Generator) -> list[str]:
    texts = []
    phone = rng.random(category.size) < PHONE_SHARE
    pick = rng.random(category.size)
    for index, name in enumerate(category):
        options = SUMMARIES[str(name)]
        text = options[int(pick[index] * len(options))]
        if phone[index]:
            text += f"，联系电话1{rng.integers(3, 10)}{rng.integers(0, 10**9):09d}"
        texts.append(text)
    return texts
