"""The main job (``earlywarn run``): simulate or import, validate, train, promote, build
the day's list, then serve."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from earlywarn.commands import data, keys, models, serving
from earlywarn.commands.app import app, dataset_path
from earlywarn.contract.spec import Mode
from earlywarn.serving.roles import Role

if TYPE_CHECKING:
    from earlywarn.models.registry import LoadedModels
    from earlywarn.settings import Settings

logger = logging.getLogger(__name__)
QUICK_START_TRUTH = dt.date(2024, 11, 1)  # the oracle's truth of the quick start's office


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
    main_job(ctx.obj, path, serve, port)


def main_job(settings: Settings, path: Path | None, serve: bool, port: int) -> None:
    """The dataset is loaded once; the versions training registered are the ones promoted;
    the list is built from the same dataset with the champions that result."""
    from earlywarn.models import registry as models_registry
    from earlywarn.simulator.export import simulate_to_directory
    from earlywarn.simulator.run import SimulationConfig
    from earlywarn.training import registry

    if path is None:
        path = settings.work_dir / "simulated"
        logger.info("no dataset given: simulating one in %s", path)
        quick_start = SimulationConfig(
            cases=5000, start=dt.date(2023, 1, 1), end=dt.date(2024, 12, 31), seed=0
        )
        simulate_to_directory(quick_start, path, "parquet", QUICK_START_TRUTH, 30)
    path = dataset_path(path, settings)  # an office's export is imported first
    dataset = data.validated(settings, path, Mode.STRICT)
    trained = models.train_models(settings, dataset)
    client = models_registry.connect(settings)
    for target, version in trained.versions.items():
        typer.echo(registry.promote(client, target, version).message)
    champions: LoadedModels = models_registry.load_models()
    # The data's "today" is its last day with a contact: build that day's list.
    last_day = models.day_after_last_contact(dataset.contacts).date() - dt.timedelta(days=1)
    serving.store_day_list(settings, dataset, last_day, champions)
    if not serve:
        return
    keys.new_key(settings, Role.ADMIN, None, "quick start")
    typer.echo(
        f"Starting the service on http://127.0.0.1:{port} (Ctrl-C stops it); "
        f"office page 网页: http://127.0.0.1:{port}/office (sign in with the key above)"
    )
    serving.start_service(settings, path, "127.0.0.1", port, workers=1)
