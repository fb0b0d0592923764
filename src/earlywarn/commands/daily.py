"""``earlywarn daily``: the one command a scheduler runs each night.

The command only; what it runs is in ``commands/nightly.py``, imported when it runs,
so that ``earlywarn daily --help`` loads neither MLflow nor SQLAlchemy.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from earlywarn.commands.app import app, day_asked

if TYPE_CHECKING:
    from earlywarn.settings import Settings


@app.command()
def daily(
    ctx: typer.Context,
    source: Annotated[
        Path,
        typer.Option(
            "--source", help="数据来源 / A contract dataset, or an office's export to import."
        ),
    ],
    date: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="日期 / The day (default: today)."),
    ] = None,
    catch_up: Annotated[
        bool,
        typer.Option("--catch-up", help="补做 / Also build the days missed since the last list."),
    ] = False,
) -> None:
    """每日任务 / The nightly job: import, validate, build and store the day's list,
    monitor it, and on the configured weekday retrain a challenger.

    One run at a time; rerunning a day is safe. Exit code 0 when every step ran
    (monitoring alerts included: they are news, not failures), 1 with the reason
    otherwise; the previous list keeps serving.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from earlywarn.commands.nightly import (
        DailyError,
        DailyOutcome,
        daily_lock,
        finish_run,
        run_daily,
        start_run,
    )
    from earlywarn.serving.audit import AuditKeyMissingError, audit_key
    from earlywarn.serving.store import open_store

    settings: Settings = ctx.obj
    day = day_asked(date, "a night's list is built for the day that ends")
    outcome = DailyOutcome()
    try:
        with daily_lock(settings):
            try:
                with open_store(settings)() as session:  # a run that cannot record itself
                    audit_key(settings, session)  # would stay "running": checked first
                run_id = start_run(settings, day)
            except (AuditKeyMissingError, SQLAlchemyError) as error:
                raise DailyError(_said(error)) from error
            try:
                run_daily(settings, source, day, catch_up, outcome)
            except (DailyError, typer.Exit, SQLAlchemyError) as error:
                reason = _said(error)
                finish_run(settings, run_id, outcome, "failed", reason)
                raise DailyError(reason) from error
            except Exception as error:  # recorded before it propagates with its traceback
                finish_run(settings, run_id, outcome, "failed", f"{type(error).__name__}: {error}")
                raise
            finish_run(settings, run_id, outcome, "ok", f"{len(outcome.days)} day(s) built")
    except DailyError as error:
        typer.echo(f"error 错误: daily run for {day} failed: {error}", err=True)
        raise typer.Exit(1) from error
    retrained = ", ".join(f"{t} {v}" for t, v in outcome.retrained.items())
    typer.echo(
        f"Daily run 每日任务 {day}: ok" + (f"; challengers {retrained}" if retrained else "")
    )


def _said(error: BaseException) -> str:
    """A step's failure in one line, for the run's record and the terminal."""
    from sqlalchemy.exc import SQLAlchemyError

    from earlywarn.serving.store import store_cause

    if isinstance(error, typer.Exit):  # its message was printed where it happened
        return "a step failed; its message is printed above"
    if isinstance(error, SQLAlchemyError):
        return (
            f"the store could not be used ({store_cause(error)}); the previous list keeps serving"
        )
    return str(error)
