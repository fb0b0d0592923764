"""The study's figures: what each policy prevented against no list, with intervals.

Per seed, a policy's prevented count is the no-list run's count minus its own on the
same world (common random numbers). Across seeds: the mean and a 95% Student-t
interval. The share of the oracle's benefit is, per seed, the policy's prevented
total over the oracle list's, then averaged the same way.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from earlywarn.files import write_atomically
from earlywarn.value.study import EARLYWARN, NO_LIST, OFFICE_RULE, Row, StudyConfig

ORACLE = "oracle"


def interval(values: list[float]) -> dict[str, float]:
    """Mean and 95% t-interval of per-seed values (no interval from one seed)."""
    finite = np.array([v for v in values if math.isfinite(v)], dtype=float)
    if finite.size == 0:
        return {"mean": math.nan, "low": math.nan, "high": math.nan}
    mean = float(finite.mean())
    if finite.size < 2:
        return {"mean": mean, "low": math.nan, "high": math.nan}
    half = float(stats.t.ppf(0.975, finite.size - 1) * finite.std(ddof=1) / math.sqrt(finite.size))
    return {"mean": mean, "low": mean - half, "high": mean + half}


def summarise(rows: list[Row]) -> list[dict[str, Any]]:
    """One entry per (effect scale, capacity share, policy), policies as run."""
    baseline = {row.seed: row for row in rows if row.policy == NO_LIST}
    runs = [row for row in rows if row.policy != NO_LIST]
    oracle = {(r.seed, r.effect_scale, r.capacity_share): r for r in runs if r.policy == ORACLE}
    keys = list(dict.fromkeys((r.effect_scale, r.capacity_share, r.policy) for r in runs))
    summary = []
    for scale, share, policy in keys:
        mine = [
            r
            for r in runs
            if (r.effect_scale, r.capacity_share, r.policy) == (scale, share, policy)
        ]
        escalations = [baseline[r.seed].escalations - r.escalations for r in mine]
        collective = [baseline[r.seed].collective - r.collective for r in mine]
        total = [e + c for e, c in zip(escalations, collective, strict=True)]
        per_100 = [
            100 * t / r.actions if r.actions else math.nan for t, r in zip(total, mine, strict=True)
        ]
        of_oracle = []
        for t, r in zip(total, mine, strict=True):
            best = oracle.get((r.seed, scale, share))
            prevented = None if best is None else _prevented(baseline[r.seed], best)
            of_oracle.append(t / prevented if prevented else math.nan)
        summary.append(
            {
                "effect_scale": scale,
                "capacity_share": share,
                "policy": policy,
                "seeds": len(mine),
                "escalations_prevented": interval([float(v) for v in escalations]),
                "collective_prevented": interval([float(v) for v in collective]),
                "prevented": interval([float(v) for v in total]),
                "prevented_per_100_acted_on": interval(per_100),
                "acted_on": float(np.mean([r.actions for r in mine])),
                "share_of_oracle_benefit": interval(of_oracle),
            }
        )
    return summary


def paired(rows: list[Row]) -> list[dict[str, Any]]:
    """earlywarn's prevented count minus the office rule's, world by world (the two run on
    the same worlds with the same random numbers, so the difference is far steadier than
    either count): per effect scale and capacity, its mean and 95% interval."""
    baseline = {row.seed: row for row in rows if row.policy == NO_LIST}
    found = {(r.seed, r.effect_scale, r.capacity_share, r.policy): r for r in rows}
    settings = dict.fromkeys(
        (r.effect_scale, r.capacity_share) for r in rows if r.policy == EARLYWARN
    )
    out = []
    for scale, share in settings:
        differences = [
            float(_prevented(baseline[seed], mine) - _prevented(baseline[seed], rule))
            for (seed, s, c, policy), mine in found.items()
            if (s, c, policy) == (scale, share, EARLYWARN)
            and (rule := found.get((seed, scale, share, OFFICE_RULE))) is not None
            and seed in baseline
        ]
        if differences:
            out.append(
                {
                    "effect_scale": scale,
                    "capacity_share": share,
                    "worlds": len(differences),
                    "more_than_office_rule": interval(differences),
                }
            )
    return out


def _prevented(baseline: Row, row: Row) -> int:
    return baseline.escalations - row.escalations + baseline.collective - row.collective


def _figure(entry: dict[str, Any], name: str, digits: int = 1) -> str:
    value = entry[name]
    if not math.isfinite(value["mean"]):
        return "-"
    if not math.isfinite(value["low"]):
        return f"{value['mean']:.{digits}f}"
    return f"{value['mean']:.{digits}f} [{value['low']:.{digits}f}, {value['high']:.{digits}f}]"


def markdown(config: StudyConfig, rows: list[Row], summary: list[dict[str, Any]]) -> str:
    baseline = [row for row in rows if row.policy == NO_LIST]
    lines = [
        "# 清单价值评估（模拟）/ What the list is worth, in simulated worlds",
        "",
        f"{len(config.seeds)} simulated worlds (seeds {', '.join(map(str, config.seeds))}), "
        f"{config.cases:,} cases registered from {config.start} to {config.last_day}; the office "
        f"works a list every morning from {config.first_day} ({config.months} months), acting on "
        f"each listed case not acted on in the last {config.cooldown_days} days. Without a list: "
        f"{np.mean([r.escalations for r in baseline]):.0f} skip-level contacts and "
        f"{np.mean([r.collective for r in baseline]):.0f} collective visits per world (mean).",
        "",
        "Prevented = the no-list run's count minus the policy's, on the same world; mean and 95% "
        "interval across the worlds (none from one world). Capacity: each morning's list is "
        f"the larger of the share of the open cases and {config.capacity_minimum} cases.",
        "",
        "| effects | capacity | policy | acted on | skip-level prevented | collective prevented "
        "| prevented per 100 acted on | share of the oracle's benefit |",
        "|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for entry in summary:
        lines.append(
            f"| x{entry['effect_scale']:g} "
            f"| max({entry['capacity_share']:.1%}, {config.capacity_minimum}) | {entry['policy']} "
            f"| {entry['acted_on']:.0f} | {_figure(entry, 'escalations_prevented')} "
            f"| {_figure(entry, 'collective_prevented')} "
            f"| {_figure(entry, 'prevented_per_100_acted_on')} "
            f"| {_figure(entry, 'share_of_oracle_benefit', 2)} |"
        )
    lines += ["", "## earlywarn against the office rule, world by world 逐个世界配对比较", ""]
    for entry in paired(rows):
        more = entry["more_than_office_rule"]
        spread = (
            f" (95% interval {more['low']:.1f} to {more['high']:.1f})"
            if math.isfinite(more["low"])
            else " (one world: no interval)"
        )
        verdict = (
            "more, beyond chance" if math.isfinite(more["low"]) and more["low"] > 0
            else "fewer, beyond chance" if math.isfinite(more["high"]) and more["high"] < 0
            else "not told apart from the office rule at this number of worlds"
        )  # fmt: skip
        lines.append(
            f"* effects x{entry['effect_scale']:g}, capacity max({entry['capacity_share']:.1%}, "
            f"{config.capacity_minimum}): earlywarn's list prevented {more['mean']:.1f} visits "
            f"more than the office rule's per world{spread} over {entry['worlds']} simulated "
            f"worlds: {verdict}."
        )
    lines += [
        "",
        "All figures are estimates from simulated worlds under the effects assumed in "
        "value.json (`config`), not measurements of an office: see docs/value.md for what "
        "they do not prove. 以上均为模拟世界中的估计，不是对实际信访部门的测量。",
    ]
    return "\n".join(lines) + "\n"


def chart(summary: list[dict[str, Any]], path: Path) -> None:
    """Prevented per 100 cases acted on, per policy, at the first effect scale and capacity."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first = (summary[0]["effect_scale"], summary[0]["capacity_share"])
    shown = [e for e in summary if (e["effect_scale"], e["capacity_share"]) == first]
    values = [e["prevented_per_100_acted_on"] for e in shown]
    means = [v["mean"] for v in values]
    errors = [
        [v["mean"] - v["low"] if math.isfinite(v["low"]) else 0 for v in values],
        [v["high"] - v["mean"] if math.isfinite(v["high"]) else 0 for v in values],
    ]
    figure, axes = plt.subplots(figsize=(7, 3.5))
    axes.bar([e["policy"] for e in shown], means, yerr=errors, capsize=4, color="#4a7ab5")
    axes.set_ylabel("prevented per 100 acted on")
    intervals = ", 95% intervals" if any(e["seeds"] > 1 for e in shown) else ""
    axes.set_title(f"effects x{first[0]:g}, capacity {first[1]:.1%}{intervals}")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _finite(value: object) -> object:
    """``value`` with every NaN or infinite float as None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def write_report(config: StudyConfig, rows: list[Row], out: Path) -> Path:
    """value.json (every run and the summary), value.md and value.png in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    summary = summarise(rows)
    document = {
        "config": config.described(),
        "runs": [asdict(r) for r in rows],
        "summary": summary,
        "paired_with_office_rule": paired(rows),
    }
    # NaN (an interval of one seed) is not JSON: null, so any JSON reader can load it.
    text = json.dumps(_finite(document), indent=2, default=str, allow_nan=False) + "\n"
    write_atomically(out / "value.json", text.encode("utf-8"))
    write_atomically(out / "value.md", markdown(config, rows, summary).encode("utf-8"))
    if summary:
        chart(summary, out / "value.png")
    return out / "value.md"
