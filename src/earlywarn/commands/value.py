"""``earlywarn evaluate-policy``: the value study (docs/value.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from earlywarn.commands.app import app

DAY = ["%Y-%m-%d"]


@app.command("evaluate-policy")
def evaluate_policy(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option(
            help="报告目录 / Where to write value.md, value.json and value.png "
            "(default: <work dir>/reports/value-<time>)."
        ),
    ] = None,
    cases: Annotated[
        int, typer.Option(min=500, help="事项数 / Cases registered per simulated world.")
    ] = 20_000,
    start: Annotated[
        dt.datetime, typer.Option(formats=DAY, help="历史开始 / First day of the history.")
    ] = dt.datetime(2023, 1, 1),
    first_day: Annotated[
        dt.datetime,
        typer.Option(
            formats=DAY,
            help="首张清单日期 / The first morning with a list; "
            "earlywarn's models are fitted on the history before it.",
        ),
    ] = dt.datetime(2025, 1, 1),
    months: Annotated[int, typer.Option(min=1, help="月数 / Months of daily lists.")] = 6,
    seeds: Annotated[int, typer.Option(min=1, help="世界数 / Simulated worlds (seeds 1..N).")] = 5,
    effect_scale: Annotated[
        list[float] | None,
        typer.Option(
            min=0.0,
            help="效果倍数 / Scale of every intervention's effect "
            "(repeat for a range; 0: no effect, the control). Default: 1.",
        ),
    ] = None,
    capacity_share: Annotated[
        list[float] | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="清单容量 / The list's share of the population "
            "(repeat for a sweep). Default: the settings' capacity share.",
        ),
    ] = None,
    cooldown: Annotated[
        int,
        typer.Option(
            min=1, help="间隔天数 / A case acted on is not acted on again for this many days."
        ),
    ] = 30,
    retrain_every: Annotated[
        int | None,
        typer.Option(
            min=7,
            help="再训练间隔 / Retrain earlywarn's models every this many "
            "days (default: fitted once, before the first list).",
        ),
    ] = None,
    policy: Annotated[
        list[str] | None,
        typer.Option(
            help="策略 / Policies beside 'no list' (repeat): office rule, random K, "
            "earlywarn, oracle, 'earlywarn, retrained naively', \"earlywarn's list, the office's "
            'usual steps". Default: the first four.'
        ),
    ] = None,
    world: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="世界编号 / A world of the simulator's family "
            "(docs/simulator.md); default: the reference world.",
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="进程数 / Worlds simulated at once, one process each.")
    ] = 2,
) -> None:
    """评估清单价值 / What the list is worth: visits prevented by working each policy's list.

    A simulated office works the list every morning, and the study counts the
    skip-level and collective visits it prevented against no list. The same worlds and
    random numbers for every policy; figures per 100 cases acted
    on, with 95% intervals across the worlds, and the share of the oracle list's
    benefit that earlywarn captures. A simulator is not an office (docs/value.md).
    """
    from earlywarn.settings import Settings
    from earlywarn.value.report import write_report
    from earlywarn.value.study import DEFAULT_POLICIES, StudyConfig, run_study

    settings: Settings = ctx.obj
    try:
        config = StudyConfig(
            cases=cases, start=start.date(), first_day=first_day.date(), months=months,
            seeds=tuple(range(1, seeds + 1)), effect_scales=tuple(effect_scale or [1.0]),
            capacity_shares=tuple(capacity_share or [settings.capacity_share]),
            capacity_minimum=settings.capacity_minimum, cooldown_days=cooldown,
            retrain_every_days=retrain_every, policies=tuple(policy or DEFAULT_POLICIES),
            family_seed=world,
        )  # fmt: skip
    except ValueError as error:
        typer.echo(f"error 错误: {error}", err=True)
        raise typer.Exit(2) from error
    target = out or settings.reports_dir / f"value-{dt.datetime.now():%Y%m%d-%H%M%S}"
    typer.echo(
        f"Value study 清单价值评估: {seeds} worlds x {len(config.policies) + 1} policies, "
        f"{months} months of daily lists from {config.first_day}",
        err=True,
    )
    rows = run_study(config, workers, progress=lambda line: typer.echo(line, err=True))
    report = write_report(config, rows, target)
    typer.echo(report.read_text(encoding="utf-8"))
    typer.echo(f"Report 报告: {report}", err=True)
