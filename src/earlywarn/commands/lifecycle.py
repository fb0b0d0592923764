"""Commands of a model's life after training: retrain a challenger, roll back a champion."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from earlywarn.commands.app import DataOption, app, checked_target, load_or_exit
from earlywarn.commands.models import train_models
from earlywarn.contract.rules import TARGETS
from earlywarn.contract.spec import Mode

if TYPE_CHECKING:
    from earlywarn.contract import Dataset
    from earlywarn.settings import Settings


def retrain_challengers(
    settings: Settings, dataset: Dataset, until: dt.datetime | None = None
) -> dict[str, str]:
    """Train on the data up to ``until`` (default: its last contact) and make each new
    version its target's challenger."""
    from earlywarn.commands.decisions import record
    from earlywarn.models import registry as models_registry
    from earlywarn.training import registry

    result = train_models(settings, dataset, until)
    client = models_registry.connect(settings)
    for target, version in result.versions.items():
        held = result.champion.get(target, {})
        if _same_as_champion(result.metrics[target], held):
            # A week that added no snapshot trains the champion again: holding the copy in
            # shadow for weeks kept every later retrain out (and was then retired).
            said = (f"the same figures as champion {held['compared_with_champion']} on the "
                    "same backtest: not held in shadow")  # fmt: skip
            record(settings, "model.challenger", f"{target}={version}", said)
            typer.echo(f"{target}: version {version} has {said} (与正式版本相同，不作为挑战者)")
            continue
        waiting = models_registry.alias_version(client, target, models_registry.CHALLENGER)
        registry.mark_challenger(client, target, version)
        said = "registered" if waiting is None else f"registered; replaces challenger {waiting}"
        record(settings, "model.challenger", f"{target}={version}", said)
        if waiting is not None:  # one challenger at a time: the one waiting is not judged
            typer.echo(
                f"{target}: challenger {waiting} (not yet judged) replaced by {version} "
                f"(挑战者 {waiting} 尚未评判，已由 {version} 替换)"
            )
    return result.versions


def _same_as_champion(figures: dict[str, float], held: dict[str, str]) -> bool:
    """The new version's backtest figures are the champion's to the last digit."""
    if "compared_with_champion" not in held:
        return False
    return repr(figures.get("roc_auc")) == repr(float(held["champion_backtest_roc_auc"])) and repr(
        figures.get("precision_at_capacity")
    ) == repr(float(held["champion_backtest_precision_at_capacity"]))


@app.command()
def retrain(ctx: typer.Context, data: DataOption) -> None:
    """重新训练挑战者 / Train on the latest data and register each new version as the
    `challenger`.

    The daily job scores it in shadow (never shown to offices) and judges it once
    enough of its days have matured; `earlywarn promote` can also promote it by hand
    (the usual rule)."""
    settings: Settings = ctx.obj
    versions = retrain_challengers(settings, load_or_exit(data, Mode.LENIENT, settings))
    typer.echo("Challengers 挑战者: " + ", ".join(f"{t} {v}" for t, v in versions.items()))


@app.command()
def rollback(
    ctx: typer.Context,
    target: Annotated[
        str, typer.Option(help="预测目标 / escalation (越级访) or collective (集体访)")
    ],
    reason: Annotated[str, typer.Option(help="原因 / Why; recorded.")],
) -> None:
    """回滚正式版本 / Move the champion back to the version it replaced (`previous`).

    The service follows the champion alias within its reload interval and keeps
    answering while it switches; a second rollback undoes the first.
    """
    settings: Settings = ctx.obj
    checked_target(target)
    reason = reason.strip()
    if not reason:
        raise typer.BadParameter(
            "a rollback is recorded with why: say it (回滚须说明原因)", param_hint="--reason"
        )
    from earlywarn.commands.decisions import record
    from earlywarn.models import registry as models_registry
    from earlywarn.training import registry

    decision = registry.rollback(models_registry.connect(settings), target, reason)
    record(settings, "model.rollback", target, f"reason: {reason}; {decision.message}")
    typer.echo(decision.message, err=not decision.promoted)
    if not decision.promoted:
        raise typer.Exit(1)


@app.command("models")
def models_command(ctx: typer.Context) -> None:
    """模型版本 / Every registered version of each target: its aliases (champion,
    challenger, previous), what it was trained up to, its backtest figures, and how it
    compared with the champion of its day (or why it could not)."""
    from earlywarn.models import registry as models_registry
    from earlywarn.training.comparison import NOT_COMPARABLE

    client = models_registry.connect(ctx.obj)
    for target in TARGETS:
        name = models_registry.model_name(target)
        versions = sorted(
            client.search_model_versions(f"name='{name}'"), key=lambda v: int(v.version)
        )
        held: dict[str, list[str]] = {}
        if versions:  # the registry's aliases (a version's own list is empty when searched)
            for alias, number in client.get_registered_model(name).aliases.items():
                held.setdefault(str(number), []).append(alias)
        typer.echo(
            f"{name}: {len(versions)} version(s) 个版本"
            + ("" if versions else ": `earlywarn train --data DIR` registers one")
        )
        for version in versions:
            tags = version.tags
            aliases = ",".join(sorted(held.get(str(version.version), []))) or "-"
            data = Path(tags["trained_on"]).name if "trained_on" in tags else "?"
            forced = " (forced)" if tags.get("promotion_forced") == "true" else ""
            line = (
                f"  {version.version:>3}  {aliases + forced:<18} until "
                f"{tags.get('until', '?')[:10]}  horizon {tags.get('horizon_days', '30')}d  "
                f"data {data}  ROC-AUC {_figure(tags.get('backtest_roc_auc'))}  precision at "
                f"capacity {_figure(tags.get('backtest_precision_at_capacity'))}"
            )
            if "compared_with_champion" in tags:
                line += (
                    f"  | champion {tags['compared_with_champion']} on the same backtest: "
                    f"{_figure(tags.get('champion_backtest_roc_auc'))} / "
                    f"{_figure(tags.get('champion_backtest_precision_at_capacity'))}"
                )
            elif NOT_COMPARABLE in tags:
                line += f"  | not comparable with champion {tags[NOT_COMPARABLE]}"
            typer.echo(line)


def _figure(text: str | None) -> str:
    return "?" if text is None else f"{float(text):.4f}"
