"""Commands of the service side: the daily risk list, the audit log, the service.

The store (SQLAlchemy), the list's stack and uvicorn are imported when a command runs.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from earlywarn.commands.app import app, dataset_path, day_asked, load_or_exit, say_replaced
from earlywarn.commands.engines import (
    Engine,
    EngineOption,
    MasterOption,
    PartitionsOption,
    partitions_of,
    spark_dataset,
)

if TYPE_CHECKING:  # the list's and the models' stacks load in the commands that use them
    from earlywarn.contract import Dataset
    from earlywarn.models.registry import LoadedModels
    from earlywarn.serving.risk_list import RiskListResult
    from earlywarn.settings import Settings

logger = logging.getLogger(__name__)

audit_app = typer.Typer(help="审计日志 / The audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@app.command("risk-list")
def risk_list(
    ctx: typer.Context,
    data: Annotated[
        Path | None, typer.Option("--data", help="数据集目录 / Dataset directory.")
    ] = None,
    date: Annotated[
        dt.datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"], help="清单日期 / The day; scored as of its end (default: today)."
        ),
    ] = None,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="核对文件 / Check the day's files against the stored list instead of building.",
        ),
    ] = False,
    engine: EngineOption = Engine.EMBEDDED,
    spark_master: MasterOption = None,
    partitions: PartitionsOption = None,
) -> None:
    """生成每日风险清单 / Build, store and export the risk list of a day.

    Scores the scoring population at the end of the day with the champion
    models; running it again for the same day and models changes nothing in the
    store and rewrites any file that is missing or differs. One run per day at a
    time. `--verify` checks the files against the stored list.
    """
    from earlywarn.contract import Mode
    from earlywarn.models import registry
    from earlywarn.serving.risk_list import NoListError, verify_list
    from earlywarn.serving.store import open_store

    settings: Settings = ctx.obj
    day = day_asked(date, "a day's list is built once the day has come")
    if verify:
        what = "to rewrite them"
        try:
            problems = verify_list(settings, open_store(settings), day)
        except NoListError as error:
            problems, what = [str(error)], "to build it"
        for problem in problems:
            typer.echo(f"error 错误: {problem}", err=True)
        if problems:
            typer.echo(
                f"run `earlywarn risk-list --data DIR --date {day}` with the day's data {what} "
                f"(用当天的数据重新运行)",
                err=True,
            )
            raise typer.Exit(1)
        typer.echo(f"OK 一致: the files of {day} are the stored list's")
        return
    if data is None:
        raise typer.BadParameter("--data is needed to build a list", param_hint="--data")
    dataset = None if engine is Engine.SPARK else load_or_exit(data, Mode.LENIENT, settings)
    registry.connect(settings)
    try:
        models = registry.load_models()
    except (LookupError, ValueError) as error:  # no champion, or one that must not serve
        typer.echo(f"error 错误: {error}", err=True)
        raise typer.Exit(1) from error
    if dataset is None:
        list_on_spark(settings, data, day, models, spark_master, partitions)
    else:
        store_day_list(settings, dataset, day, models)


def list_on_spark(
    settings: Settings,
    data: Path,
    day: dt.date,
    models: LoadedModels,
    master: str | None,
    partitions: int | None,
) -> None:
    """``risk-list --engine spark``: scored on the cluster, stored and written here."""
    from earlywarn.models.capacity import Capacity
    from earlywarn.serving.risk_list import store_scored_list
    from earlywarn.serving.store import open_store
    from earlywarn.spark.day import spark_scores

    dataset, parallelism = spark_dataset(data, master)
    capacity = Capacity(settings.capacity_share, settings.capacity_minimum)
    scorer = spark_scores(dataset, models, capacity, partitions_of(partitions, parallelism))
    show_stored(store_scored_list(settings, day, open_store(settings), models, scorer))


def store_day_list(
    settings: Settings, dataset: Dataset, day: dt.date, models: LoadedModels
) -> None:
    """Build, store and export one day's list; print what was stored and where."""
    from earlywarn.serving.list_files import ListBusyError
    from earlywarn.serving.risk_list import build_risk_list
    from earlywarn.serving.store import open_store

    try:
        result = build_risk_list(settings, dataset, day, open_store(settings), models)
    except (LookupError, ValueError, ListBusyError) as error:
        typer.echo(f"error 错误: {error}", err=True)
        raise typer.Exit(1) from error
    show_stored(result)


def show_stored(result: RiskListResult) -> None:
    typer.echo(
        f"Risk list 风险清单 {result.list_date}: {result.rows:,} cases, {result.high:,} high; "
        f"{result.stored_words} (checksum {result.checksum[:16]})"
    )
    for kind, path in result.files.items():
        typer.echo(f"  {kind}: {path}")
    say_replaced(result.replaced)
    if not result.rows:  # a mistyped --date stores a list that reads "every case is safe"
        typer.echo(
            f"warning 警告: no case is open at the end of {result.list_date}: the stored list "
            "is empty; is --date right? (该日没有在办事项，清单为空，请核对 --date)",
            err=True,
        )


@audit_app.command("verify")
def audit_verify(ctx: typer.Context) -> None:
    """校验审计链 / Check that no audit record was edited, inserted, deleted or rewritten.

    Recomputes every record's keyed hash and holds the chain to every anchor written
    (the count and head at each list build, daily, and at each successful check);
    a success writes a new anchor.
    """
    from earlywarn.serving.audit import (
        AuditKeyMissingError,
        anchor_file,
        audit_key,
        verify_chain,
        write_anchor,
    )
    from earlywarn.serving.store import open_store

    settings: Settings = ctx.obj
    with open_store(settings)() as session:
        try:
            key = audit_key(settings, session)
        except AuditKeyMissingError as error:
            typer.echo(f"error 错误: {error}", err=True)
            raise typer.Exit(2) from error
        check = verify_chain(session, key, anchor_file(settings))
        if check.ok:
            write_anchor(session, anchor_file(settings), "audit verify")
    if check.ok:
        typer.echo(f"OK 完好: {check.records:,} audit records, chain intact")
        return
    typer.echo(f"BROKEN 已被篡改: at record {check.first_broken}: {check.problem}", err=True)
    raise typer.Exit(1)


@app.command()
def serve(
    ctx: typer.Context,
    data: Annotated[
        Path, typer.Option(help="数据集目录 / Dataset whose context the service scores against.")
    ],
    host: Annotated[str, typer.Option(help="监听地址 / Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口 / Port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="进程数 / Worker processes.")] = 1,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="可信反向代理地址 / Reverse proxies (comma-separated addresses, or *) whose "
            "X-Forwarded-For names the client: the sign-in back-off and the audit hold each "
            "person's address, not the proxy's (default: 127.0.0.1 only).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """启动评分服务 / Start the score API and the risk-list service (uvicorn)."""
    start_service(ctx.obj, data, host, port, workers, forwarded_allow_ips)


def start_service(
    settings: Settings,
    data: Path,
    host: str,
    port: int,
    workers: int,
    forwarded_allow_ips: str | None = None,
) -> None:
    """Run uvicorn over ``serving.main`` until stopped. Behind a reverse proxy on another
    machine every call would come from the proxy's address: five failed sign-ins by anyone
    would hold the whole office back, unless the proxy is named as trusted."""
    import os

    import uvicorn

    from earlywarn.serving.main import DATA_VARIABLE
    from earlywarn.serving.store import open_store

    dataset = dataset_path(data, settings)
    if not dataset.is_dir():  # the service would start and never become ready
        typer.echo(f"error 错误: dataset directory not found 数据集目录不存在: {data}", err=True)
        raise typer.Exit(2)
    open_store(settings)  # migrate once here, not in N workers at the same moment
    os.environ[DATA_VARIABLE] = str(dataset.resolve())
    uvicorn.run(
        "earlywarn.serving.main:build_app", factory=True, host=host, port=port, workers=workers,
        proxy_headers=True, forwarded_allow_ips=forwarded_allow_ips,  # None: uvicorn's default
        http="earlywarn.serving.slow_clients:DeadlineProtocol",  # a request read in time
    )  # fmt: skip
