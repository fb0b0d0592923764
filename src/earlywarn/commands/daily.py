"""``earlywarn daily``: the one command a scheduler runs each night.

The command only; what it runs is in ``commands/nightly.py``, imported when it runs,
so that ``earlywarn daily --help`` loads neither MLflow nor SQLAlchemy.
"""

from __future__ import annotations

import datetime as dt
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from earlywarn.commands.app import app, day_asked
from earlywarn.commands.interruption import INTERRUPTED, say_interrupted

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
        typer.Option(
            formats=["%Y-%m-%d"],
            help="日期 / The day (default: yesterday, the last whole day the export holds).",
        ),
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

    from earlywarn.commands.daily_runs import finish_run, start_run
    from earlywarn.commands.nightly import DailyError, DailyOutcome, daily_lock, run_daily
    from earlywarn.serving.audit import AuditKeyMissingError, audit_key
    from earlywarn.serving.store import open_store

    settings: Settings = ctx.obj
    # By default the day that ended: at 02:30 the export holds yesterday, and a list of
    # today, scored as of tonight's end, read a day with no contact yet as a quiet one.
    day = day_asked(date, "a night's list is built for the day that ends", days_back=1)
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
                with _stopped_by_signals():
                    run_daily(settings, source, day, catch_up, outcome)
            except KeyboardInterrupt as error:  # Ctrl-C, or systemd's SIGTERM at its timeout
                finish_run(settings, run_id, outcome, "interrupted", STOPPED)
                say_interrupted(f"interrupted 已中断: daily run for {day}: {STOPPED}")
                raise typer.Exit(INTERRUPTED) from error
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


STOPPED = (
    "stopped by Ctrl-C or a termination signal; run the night again: it finishes what is "
    "missing (运行被中止；再次运行即可补齐)"
)


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """SIGTERM (systemd's stop, its TimeoutStartSec) read as Ctrl-C while the night runs,
    so that the run records why it stopped instead of staying "running"."""

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        before = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: left as it is
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def _said(error: BaseException) -> str:
    """A step's failure in one line, for the run's record and the terminal."""
    from sqlalchemy.exc import SQLAlchemyError

    from earlywarn.serving.store import store_cause

    if isinstance(error, typer.Exit):  # its message was printed where it happened
        return "a step failed; its message is printed above"
    if isinstance(error, SQLAlchemyError):
        return (
            f"the store could not be used ({store_cause(error)}); the previous list keeps serving "
            "(数据库暂不可用，前一份清单继续有效)"
        )
    return str(error)


@app.command()
def runs(
    ctx: typer.Context,
    last: Annotated[int, typer.Option(min=1, help="条数 / How many runs, newest first.")] = 14,
) -> None:
    """每日任务记录 / The nightly job's runs, newest first: the day, when it started and
    ended (office time), how it ended and what it said; exit 1 when the newest failed or
    was stopped.

    What systemd records only as succeeded or failed: the nights a stale export left
    without news, the runs stopped and recorded later."""
    from sqlalchemy import select

    from earlywarn.contract.rules import OFFICE_ZONE
    from earlywarn.serving.store import DailyRun, open_store

    settings: Settings = ctx.obj
    with open_store(settings)() as session:
        found = list(session.scalars(select(DailyRun).order_by(DailyRun.id.desc()).limit(last)))

    def shown(moment: dt.datetime | None) -> str:
        if moment is None:
            return "-"
        return moment.replace(tzinfo=dt.UTC).astimezone(OFFICE_ZONE).strftime("%Y-%m-%d %H:%M")

    if not found:
        typer.echo("no daily run recorded yet 尚无每日任务记录: `earlywarn daily --source SOURCE`")
        return
    for run in found:
        typer.echo(
            f"{run.day}  {shown(run.started_at)} -> {shown(run.finished_at)}  "
            f"{run.outcome:<11}  {run.message[:160]}{_decided(run.counts)}"
        )
    if found[0].outcome not in ("ok", "running"):
        raise typer.Exit(1)


def _decided(counts: str) -> str:
    """What a night decided besides building its list, from its record: the worst
    monitoring status of its days, a retrain, a challenger judged (each said as "ok"
    alone before)."""
    import json

    found = json.loads(counts or "{}")
    statuses = [day.get("monitoring") for day in found.get("days", [])]
    said = []
    worst = next((s for s in ("alert", "warn") if s in statuses), None)
    if worst:
        said.append(f"monitoring {worst}")
    if found.get("retrained"):
        versions = ", ".join(f"{t} {v}" for t, v in found["retrained"].items())
        said.append(f"retrained: {versions}")
    said += [str(verdict)[:120] for verdict in found.get("judged", [])]
    return ("; " + "; ".join(said)) if said else ""
