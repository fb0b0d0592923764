"""How close the simulated caseload comes to the figures in the domain brief.

Each measure names its source in ``shared/spec/domain.md``, the target, and a
tolerance; docs/simulator.md shows the table and a test guards it on the sample.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

GROUP = 5
LAND = ["land_requisition", "land_dispute", "reservoir_migration"]
WAGES = ["wage_arrears", "social_security", "retiree_benefits"]
URBAN = ["urban_management", "demolition_resettlement"]

Tables = dict[str, pl.DataFrame]


@dataclass(frozen=True)
class Measure:
    name: str
    source: str
    target: float
    tolerance: float
    compute: Callable[[Tables], float]


def _visits(t: Tables) -> pl.DataFrame:
    return t["contacts"].filter(pl.col("channel").cast(pl.String) == "visit")


def _share(frame: pl.DataFrame, condition: pl.Expr) -> float:
    return float(frame.select(condition.mean()).item() or 0.0)


def _nature_share(t: Tables, natures: list[str]) -> float:
    return _share(t["cases"], pl.col("nature").cast(pl.String).is_in(natures))


def _skip_level_mix(t: Tables, categories: list[str] | None) -> float:
    above = ["city", "province", "national"]
    escalated = (
        t["contacts"]
        .filter(pl.col("level").cast(pl.String).is_in(above))
        .select("case_id")
        .unique()
    )
    cases = t["cases"].join(escalated, on="case_id", how="semi")
    category = pl.col("category").cast(pl.String)
    if categories is None:
        return _share(cases, ~category.is_in(LAND + WAGES + URBAN))
    return _share(cases, category.is_in(categories))


def _on_time_answers(t: Tables) -> float:
    actions = t["actions"].with_columns(pl.col("action_type").cast(pl.String))
    accepted = (
        actions.filter(pl.col("action_type").is_in(["accepted", "reopened"]))
        .select("case_id", pl.col("occurred_at").alias("clock"))
        .sort("clock")
    )
    answers = (
        actions.filter(pl.col("action_type") == "responded")
        .select("case_id", "occurred_at")
        .sort("occurred_at")
    )
    matched = answers.join_asof(
        accepted,
        left_on="occurred_at",
        right_on="clock",
        by="case_id",
        strategy="backward",
        check_sortedness=False,  # both sides are sorted by time; groups make polars unsure
    )
    late = (pl.col("occurred_at") - pl.col("clock")) > pl.duration(days=60)
    return _share(matched.drop_nulls("clock"), ~late)


MEASURES: tuple[Measure, ...] = (
    Measure(
        "group visits among visits",
        "township: 68 group visits of 279 (24%); town: 6 collective of 36 petitions (17%)",
        0.20,
        0.06,
        lambda t: _share(_visits(t), pl.col("group_size") >= GROUP),
    ),
    Measure(
        "people per group visit",
        "township: 1,320 people in 68 group visits (19.4)",
        19.4,
        5.0,
        lambda t: float(
            _visits(t)
            .filter(pl.col("group_size") >= GROUP)
            .select(pl.col("group_size").mean())
            .item()
            or 0
        ),
    ),
    Measure(
        "people per visit",
        "city: 27,850 people in 5,897 visit batches (4.7)",
        4.7,
        1.5,
        lambda t: float(_visits(t).select(pl.col("group_size").mean()).item() or 0),
    ),
    Measure(
        "appeals among cases",
        "county: appeals 60%",
        0.60,
        0.05,
        lambda t: _nature_share(t, ["appeal"]),
    ),
    Measure(
        "reports among cases",
        "county: reports against officials 30%",
        0.30,
        0.05,
        lambda t: _nature_share(t, ["report"]),
    ),
    Measure(
        "suggestions and inquiries among cases",
        "county: suggestions and inquiries 10%",
        0.10,
        0.04,
        lambda t: _nature_share(t, ["suggestion", "inquiry"]),
    ),
    Measure(
        "land matters among skip-level cases",
        "city inspection of 35 cases: land and requisition 46%",
        0.46,
        0.10,
        lambda t: _skip_level_mix(t, LAND),
    ),
    Measure(
        "wages and social insurance among skip-level cases",
        "city inspection: wages and social insurance 23%",
        0.23,
        0.08,
        lambda t: _skip_level_mix(t, WAGES),
    ),
    Measure(
        "urban management and demolition among skip-level cases",
        "city inspection: urban management and demolition 17%",
        0.17,
        0.08,
        lambda t: _skip_level_mix(t, URBAN),
    ),
    Measure(
        "contacts above county level",
        "town, four months: 4 of 36 petitions went to the province or higher courts (11%)",
        0.11,
        0.05,
        lambda t: _share(
            t["contacts"], pl.col("level").cast(pl.String).is_in(["city", "province", "national"])
        ),
    ),
    Measure(
        "answers within 60 days of acceptance",
        "offices' on-time target 90%+; a city handled 96.3% of matters to completion",
        0.92,
        0.05,
        _on_time_answers,
    ),
)


def calibration_table(tables: Tables) -> pl.DataFrame:
    """Simulated value of every measure beside its target and whether it is within tolerance."""
    rows = []
    for measure in MEASURES:
        value = measure.compute(tables)
        rows.append(
            {
                "measure": measure.name,
                "target": measure.target,
                "tolerance": measure.tolerance,
                "simulated": round(value, 3),
                "within": abs(value - measure.target) <= measure.tolerance,
                "source": measure.source,
            }
        )
    return pl.DataFrame(rows)


def markdown_table(tables: Tables) -> str:
    """The calibration table as Markdown, for docs/simulator.md."""
    lines = [
        "| measure | brief's figure | target | tolerance | simulated | within |",
        "|---|---|---:|---:|---:|---|",
    ]
    for row in calibration_table(tables).iter_rows(named=True):
        lines.append(
            f"| {row['measure']} | {row['source']} | {row['target']:g} | ±{row['tolerance']:g} | "
            f"{row['simulated']:g} | {'yes' if row['within'] else 'no'} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    import sys
    from pathlib import Path

    from earlywarn.contract import load_dataset

    dataset = load_dataset(Path(sys.argv[1]))
    assert dataset.actions is not None
    print(
        markdown_table(
            {"cases": dataset.cases, "contacts": dataset.contacts, "actions": dataset.actions}
        )
    )
