"""The ``earlywarn`` command line: a thin shell that wires settings, logging and the stages."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Annotated

import typer

# Importing the command modules registers their commands, data first (the order of --help).
from earlywarn.commands import data, models, serving  # noqa: F401  (serving registers its commands)
from earlywarn.commands.app import app
from earlywarn.contract import Mode, load_dataset
from earlywarn.settings import Settings
from earlywarn.training import registry

logger = logging.getLogger(__name__)


@app.command()
def run(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Option("--data", help="数据集目录 / Dataset directory (default: simulate one)."),
    ] = None,
) -> None:
    """运行主流程 / The main job: simulate (when no dataset is given), validate, train,
    promote, score.

    Promotion follows the usual rule (the new version must beat the champion on
    the same backtest); a refused promotion keeps the champion and is reported.
    """
    settings: Settings = ctx.obj
    dataset = path
    if dataset is None:
        dataset = settings.work_dir / "simulated"
        logger.info("no dataset given: simulating one in %s", dataset)
        ctx.invoke(data.simulate, out=dataset, cases=5000, seed=0, truth=dt.datetime(2024, 11, 1))
    ctx.invoke(data.validate, ctx=ctx, dataset=dataset, mode=Mode.STRICT, issues_file=None)
    ctx.invoke(models.train, ctx=ctx, data=dataset)
    client = registry.connect(settings)
    for target in ("escalation", "collective"):
        latest = max(
            int(v.version)
            for v in client.search_model_versions(f"name='{registry.model_name(target)}'")
        )
        decision = registry.promote(client, target, str(latest))
        typer.echo(decision.message)
    as_of = models.day_after_last_contact(load_dataset(dataset, Mode.LENIENT).contacts)
    out = settings.work_dir / "scores" / f"scores-{as_of:%Y-%m-%d}.csv"
    ctx.invoke(models.score, ctx=ctx, data=dataset, as_of=as_of, out=out)


def main() -> None:
    """Console-script entry point."""
    app()
