"""The ``earlywarn`` command line: a thin shell that wires settings, logging and the stages."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Annotated

import typer

# Importing the command modules registers their commands, data first (the order of --help).
from earlywarn.commands import data, models, serving
from earlywarn.commands.app import app
from earlywarn.contract import Mode, load_dataset
from earlywarn.serving.access import Role
from earlywarn.settings import Settings
from earlywarn.training import registry

logger = logging.getLogger(__name__)


@app.command()
def run(
    ctx: typer.Context,
    serve: Annotated[
        bool, typer.Option(help="最后启动服务 / End by starting the service (blocks until Ctrl-C).")
    ] = True,
    port: Annotated[int, typer.Option(help="服务端口 / Port of the service.")] = 8000,
    path: Annotated[
        Path | None,
        typer.Option("--data", help="数据集目录 / Dataset directory (default: simulate one)."),
    ] = None,
) -> None:
    """运行主流程 / The main job: simulate (when no dataset is given), validate, train,
    promote, build the day's risk list, then start the service with a new admin key.

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
    last_day = as_of - dt.timedelta(days=1)
    # The data's "today" is its last day with a contact: build that day's list.
    ctx.invoke(serving.risk_list, ctx=ctx, data=dataset, date=last_day)
    if not serve:
        return
    ctx.invoke(serving.keys_create, ctx=ctx, role=Role.ADMIN, county=None, label="quick start")
    typer.echo(
        f"Starting the service on http://127.0.0.1:{port} (Ctrl-C stops it); "
        f"office page 网页: http://127.0.0.1:{port}/office (sign in with the key above)"
    )
    ctx.invoke(serving.serve, ctx=ctx, data=dataset, host="127.0.0.1", port=port, workers=1)


def main() -> None:
    """Console-script entry point."""
    app()
