"""What ``earlywarn daily`` (commands/daily.py) runs: the one job a scheduler runs each night.

Import the night's export (or read a contract dataset), validate it leniently,
build and store each day's list, monitor it, score the challenger in shadow,
judge it once enough of its days have matured, and on the configured weekday
retrain a challenger. One run at a time (a lock in the work directory); a rerun
of the same day changes nothing it need not; ``--catch-up`` builds the days
missed since the last list, oldest first. Every run is recorded (``daily_runs``)
and audited; a failure exits non-zero with its reason and leaves the previous
list serving (each list is stored in one transaction).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from mlflow.tracking import MlflowClient
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.commands.app import ExportRefusedError, imported_dataset, say_replaced
from earlywarn.commands.challenge import judge_challengers
from earlywarn.commands.lifecycle import retrain_challengers
from earlywarn.contract import ContractError, Dataset, Mode, load_dataset
from earlywarn.contract.rules import end_of_day
from earlywarn.models import registry
from earlywarn.models.registry import LoadedModels
from earlywarn.serving.list_files import ListBusyError
from earlywarn.serving.monitor.checks import Check
from earlywarn.serving.monitor.run import monitor_day
from earlywarn.serving.risk_list import build_risk_list, verify_list
from earlywarn.serving.shadow import write_shadow
from earlywarn.serving.store import (
    DailyRun,
    MonitorCheck,
    RiskList,
    database_url,
    open_store,
)
from earlywarn.serving.store_open import nightly_store_lock, setup_failure
from earlywarn.settings import Settings

logger = logging.getLogger(__name__)
LOCK_FILE = "daily.lock"


class DailyError(Exception):
    """The run cannot go on: said in the run's record and on the terminal."""


@contextmanager
def daily_lock(settings: Settings) -> Iterator[None]:
    """Hold the work directory's daily lock, or fail at once: two runs never overlap."""
    try:
        settings.work_dir.mkdir(parents=True, exist_ok=True)
        handle = (settings.work_dir / LOCK_FILE).open("a")
    except OSError as error:  # a read-only disk, a directory of another user
        raise DailyError(
            f"the work directory {settings.work_dir} cannot be written ({error.strerror}) "
            "(工作目录无法写入)"
        ) from error
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise DailyError(
                "another daily run is in progress; this one did nothing "
                "(另一个每日任务正在运行，本次未执行)"
            ) from error
        try:
            with ExitStack() as held:
                url = database_url(settings)
                try:
                    own = held.enter_context(
                        nightly_store_lock(url, settings.database_busy_seconds)
                    )
                except SQLAlchemyError as error:  # the store cannot be reached for its lock
                    raise DailyError(str(setup_failure(url, error))) from error
                if not own:
                    raise DailyError(
                        "another daily run, on another host, holds the store's lock; this "
                        "one did nothing (另一台主机的每日任务正在运行，本次未执行)"
                    )
                yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def days_to_build(
    settings: Settings, sessions: sessionmaker[Session], day: dt.date, catch_up: bool
) -> list[dt.date]:
    """The day alone (days missed before it are said), or with ``--catch-up`` every day
    since the last stored list (at most ``catch_up_days``, the latest ones; the ones left
    out are said), oldest first, and the last list's day again if its files are not
    whole or it was never monitored (a run killed while writing them, or before its
    monitoring)."""
    with sessions() as session:
        last = session.scalar(select(func.max(RiskList.list_date)).where(RiskList.list_date < day))
        monitored = last is not None and session.scalar(
            select(func.count()).select_from(MonitorCheck).where(MonitorCheck.day == last)
        )
    if not catch_up:
        if last is not None and (day - last).days > 1:
            typer.echo(
                f"warning 警告: no list for the {(day - last).days - 1} day(s) from "
                f"{last + dt.timedelta(days=1)} to {day - dt.timedelta(days=1)} (漏跑的日期); "
                "`earlywarn daily --source ... --catch-up` builds them"
            )
        return [day]
    if last is None:
        return [day]
    missed = [last + dt.timedelta(days=n) for n in range(1, (day - last).days + 1)]
    most = settings.catch_up_days
    if len(missed) > most:
        left = missed[: len(missed) - most]
        typer.echo(
            f"warning 警告: {len(left)} missed day(s) from {left[0]} to {left[-1]} are beyond "
            f"catch_up_days ({most}) and not built (超出补做天数，未生成); build each with "
            "`earlywarn risk-list --data DIR --date D`"
        )
    repaired = [last] if verify_list(settings, sessions, last) or not monitored else []
    return repaired + missed[-most:]


@dataclass
class DailyOutcome:
    days: list[dict[str, Any]] = field(default_factory=list)
    judged: list[str] = field(default_factory=list)
    retrained: dict[str, str] = field(default_factory=dict)
    versions: str = ""
    imported: dict[str, dict[str, int]] = field(default_factory=dict)  # per table


def _pending(champions: LoadedModels) -> bool:
    """A challenger still waits for its verdict: no new one is trained over it."""
    client = MlflowClient()
    return any(registry.alias_version(client, t, registry.CHALLENGER) for t in champions.models)


def _challengers(champions: LoadedModels) -> LoadedModels | None:
    """The challengers to score in shadow (a target without one uses its champion), or
    None when no target has one that can serve."""
    client = MlflowClient()
    wanted = {t: registry.alias_version(client, t, registry.CHALLENGER) for t in champions.models}
    if not any(v and v != champions.numbers[t] for t, v in wanted.items()):
        return None
    try:
        return registry.load_models({t: v or champions.numbers[t] for t, v in wanted.items()})
    except (LookupError, ValueError) as error:
        logger.warning("the challengers cannot be scored in shadow: %s", error)
        return None


def _drivers(checks: list[Check]) -> str:
    """What set the day's monitoring status, its three worst checks: "monitoring warn"
    alone every night taught the operator to look past it."""
    from earlywarn.serving.monitor.verdict import verdict_of

    shown = [
        f"{c.check} {c.subject} {c.value:.3g}" if c.value is not None else f"{c.check} {c.subject}"
        for c in verdict_of(checks).drivers[:3]
    ]
    return f" ({', '.join(shown)})" if shown else ""


def _load(source: Path, settings: Settings, outcome: DailyOutcome) -> Dataset:
    """The night's dataset; an office's export is imported (merged) first, and what the
    import counted is kept with the run and said."""
    try:
        path, imported = imported_dataset(source, settings)
    except ExportRefusedError as error:
        raise DailyError(str(error)) from error
    if imported is not None:
        merged = imported.merged
        for summary in imported.dataset.report.tables:
            counts = {"read": summary.rows_read, "quarantined": summary.rows_quarantined}
            if summary.table in merged:
                counts |= vars(merged[summary.table])
            outcome.imported[summary.table] = counts
            counted = merged.get(summary.table)
            typer.echo(
                f"import {summary.table}: {summary.rows_read:,} read, "
                f"{summary.rows_quarantined:,} quarantined"
                + (f", {counted.added:,} added, {counted.changed:,} changed" if counted else "")
                + (f", {counted.removed:,} no longer exported"
                   if counted and counted.removed else "")
            )  # fmt: skip
        for (column, value), rows in sorted(imported.unmapped_values.items()):
            typer.echo(
                f"warning 警告: {column}: {value!r} ({rows:,} rows) is no code we know "
                "(未识别的值); map it in the import_mapping file"
            )
        if merged and not any(c.added or c.changed for c in merged.values()):
            typer.echo(
                "warning 警告: the export holds nothing new since the last import (导出无新数据): "
                + (
                    "the run that stopped before this one imported it already, and its "
                    "import was kept (上次中断的运行已导入)"
                    if _last_run_unfinished(settings)
                    else "the night before's file left in the folder?"
                )
            )
    try:
        return load_dataset(path, Mode.LENIENT, settings.quarantine_dir(path))
    except (ContractError, FileNotFoundError) as error:
        raise DailyError(f"{source}: {error}") from error


def _last_run_unfinished(settings: Settings) -> bool:
    """Whether the run before this one did not end ok (killed, failed, stopped): its
    import was committed, so this night's finds nothing new, and no stale file is to
    blame."""
    from earlywarn.serving.store import open_store

    with open_store(settings)() as session:
        runs = session.scalars(select(DailyRun.outcome).order_by(DailyRun.id.desc()).limit(2))
        outcomes = list(runs)
    return len(outcomes) == 2 and outcomes[1] != "ok"  # [this run, the one before]


def _retrained_already(sessions: sessionmaker[Session], day: dt.date) -> bool:
    with sessions() as session:
        runs = session.scalars(
            select(DailyRun.counts).where(DailyRun.day == day, DailyRun.outcome == "ok")
        ).all()
    return any(json.loads(counts).get("retrained") for counts in runs)


def run_daily(
    settings: Settings, source: Path, day: dt.date, catch_up: bool, outcome: DailyOutcome
) -> None:
    """The night's work, filling ``outcome`` as it goes (kept when a later step fails)."""
    sessions = open_store(settings)
    dataset = _load(source, settings, outcome)
    registry.connect(settings)
    try:
        models = registry.load_models()
    except (LookupError, ValueError) as error:
        raise DailyError(str(error)) from error
    outcome.versions = models.version_text
    challengers = _challengers(models)
    days = days_to_build(settings, sessions, day, catch_up)
    for each in days:
        try:
            built = build_risk_list(settings, dataset, each, sessions, models)
        except ListBusyError as error:
            raise DailyError(str(error)) from error
        except OSError as error:  # a read-only folder, a full disk
            raise DailyError(
                f"{each}: the list's files cannot be written: {error.strerror} "
                f"({error.filename}) (清单文件无法写入); free the disk or fix the folder's "
                "permissions and run the night again: it finishes what is missing"
            ) from error
        watched = monitor_day(
            settings, dataset, each, sessions, models, built.features, built.probability
        )
        if challengers is not None and built.features is not None:
            write_shadow(settings, each, built.features, challengers)
        outcome.days.append(
            {"day": each.isoformat(), "rows": built.rows, "high": built.high,
             "changed": built.changed, "monitoring": watched.status,
             "replaced": str(built.replaced) if built.replaced else None,
             "shadow": challengers.version_text if challengers else None}
        )  # fmt: skip
        typer.echo(
            f"{each}: list {built.rows:,} cases, {built.high:,} high "
            f"({built.stored_words}); monitoring {watched.status}{_drivers(watched.checks)}"
        )
        say_replaced(built.replaced)
    for message in judge_challengers(settings, dataset, end_of_day(day)):
        outcome.judged.append(message)
        typer.echo(message)
    weekday = settings.retrain_weekday
    # A caught-up week retrains once if its retraining day was among the days missed.
    due = weekday is not None and any(each.weekday() == weekday for each in days)
    if not due or _retrained_already(sessions, day):
        return
    if _pending(models):
        typer.echo(
            "retraining skipped 未重新训练: a challenger still waits for its verdict, which "
            "the nightly job gives by itself once enough of its shadow lists have matured "
            "(挑战者尚待自动评判); `earlywarn models` shows it, `earlywarn promote` puts it in "
            "now"
        )
        return
    outcome.retrained = retrain_challengers(settings, dataset, end_of_day(day))
