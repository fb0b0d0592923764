"""Command of the monitoring side: whether the model still fits the world it scores."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from earlywarn.commands.app import app, day_asked, load_or_exit
from earlywarn.contract.spec import Mode

if TYPE_CHECKING:
    from earlywarn.settings import Settings

_STATUS_WORDS = {"ok": "正常 ok", "warn": "注意 warn", "alert": "告警 alert"}


@app.command()
def monitor(
    ctx: typer.Context,
    data: Annotated[Path, typer.Option("--data", help="数据集目录 / Dataset directory.")],
    date: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="日期 / The day, as of its end (default: today)."),
    ] = None,
) -> None:
    """模型监测 / Monitor a day: input drift per feature (PSI against the bins frozen at
    training), score drift against the earlier days, data quality, and how the latest
    matured list turned out. Stored per day; prints the checks that are not ok.

    Exit code 0 whatever the status (an alert is news, not a failure); 1 when the
    checks cannot run (no dataset, no champion).
    """
    settings: Settings = ctx.obj
    from earlywarn.models import registry
    from earlywarn.serving.monitor.run import monitor_day
    from earlywarn.serving.store import open_store

    day = day_asked(date, "a day is monitored once it has come")
    dataset = load_or_exit(data, Mode.LENIENT, settings)
    registry.connect(settings)
    try:
        models = registry.load_models()
    except (LookupError, ValueError) as error:
        typer.echo(f"error 错误: {error}", err=True)
        raise typer.Exit(1) from error
    result = monitor_day(settings, dataset, day, open_store(settings), models)
    waiting = [c for c in result.checks if c.waiting]
    typer.echo(
        f"Monitoring 监测 {day}: {_STATUS_WORDS[result.status]} "
        f"({len(result.checks)} checks, {len(result.needing_attention())} not ok"
        + (f", {len(waiting)} not judged yet 尚未判断" if waiting else "")
        + ")"
    )
    for check in waiting:  # "ok" alone read as judged: say what waits, and for what
        typer.echo(
            f"  {'waiting':10} {check.check:20} {check.subject:32} "
            f"{check.detail.get('waits_for', '')}"
        )
    for check in result.checks:  # how the matured list turned out, whatever its status
        found = check.detail
        if check.check == "precision_shortfall" and "observed" in found:
            typer.echo(
                f"  {'matured':10} {check.subject:28} promised {found['expected']:.1%}, turned "
                f"out {found['observed']:.1%} ({found['hits']}/{found['cases']} flagged cases; "
                f"95% {found['low']:.1%}–{found['high']:.1%}; p {found['p_value']:.2f}) "
                "到期清单的承诺与实际精确率"
            )
    for check in result.needing_attention():
        value = "-" if check.value is None else f"{check.value:.4g}"
        typer.echo(
            f"  {_STATUS_WORDS[check.status]:10} {check.check:20} {check.subject:32} {value}"
        )
