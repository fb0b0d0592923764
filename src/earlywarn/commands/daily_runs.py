"""The record of each night's run (``daily_runs``): started under the daily lock, ended
with its outcome and counts, audited.

A run that cannot record its end (the store locked or gone at that moment) keeps it in a
file beside the store, ``daily-run-ends/<id>.json``, and the next run records it from
there: the history said "interrupted (killed, or the machine went down)" for a night
that had failed on a locked store, and its counts were lost.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import typer
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from earlywarn.commands.nightly import DailyOutcome
from earlywarn.files import write_atomically
from earlywarn.serving.audit import audit, audit_key
from earlywarn.serving.store import DailyRun, open_store, store_cause, utc_now
from earlywarn.settings import Settings

logger = logging.getLogger(__name__)
KEPT_ENDS = "daily-run-ends"

INTERRUPTED = "the process stopped before the run ended (killed, or the machine went down)"


def start_run(settings: Settings, day: dt.date) -> int:
    """The run's record, under the daily lock: a run still marked running was stopped
    before it could record its end, and is marked interrupted."""
    folder = settings.work_dir / KEPT_ENDS
    with open_store(settings).begin() as session:
        stopped = session.scalars(select(DailyRun).where(DailyRun.outcome == "running")).all()
        recorded = []
        for run in stopped:
            kept = folder / f"{run.id}.json"
            if kept.exists():  # it ended, but could not say so: said now
                _ended(settings, session, run, json.loads(kept.read_text("utf-8")))
                recorded.append(kept)
                typer.echo(f"the daily run for {run.day} ended {run.outcome} (recorded now): "
                           f"{run.message} 上次运行的结果此时补记")  # fmt: skip
                continue
            run.outcome, run.finished_at, run.message = "interrupted", utc_now(), INTERRUPTED
            typer.echo(f"warning 警告: the daily run for {run.day} was interrupted 上次运行中断")
        run = DailyRun(day=day, outcome="running", message="", counts="{}")
        session.add(run)
        session.flush()
        run_id = run.id
    for kept in recorded:  # once its record is committed
        kept.unlink(missing_ok=True)
    return run_id


def finish_run(
    settings: Settings, run_id: int, outcome: DailyOutcome, state: str, message: str
) -> None:
    """The run's end, recorded and audited; if the store cannot take it (locked, gone),
    kept in a file for the next run to record, and said in the log."""
    counts = {"days": outcome.days, "judged": outcome.judged, "retrained": outcome.retrained,
              "imported": outcome.imported}  # fmt: skip
    end = {"state": state, "message": message, "counts": counts, "versions": outcome.versions,
           "finished_at": utc_now().isoformat()}  # fmt: skip
    try:
        _record_end(settings, run_id, end)
    except SQLAlchemyError as error:
        kept = settings.work_dir / KEPT_ENDS / f"{run_id}.json"
        kept.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(kept, json.dumps(end, ensure_ascii=False).encode("utf-8"))
        logger.error("the end of daily run %d (%s) could not be recorded: %s; kept in %s for "
                     "the next run", run_id, state, store_cause(error), kept)  # fmt: skip


def _record_end(settings: Settings, run_id: int, end: dict[str, Any]) -> None:
    with open_store(settings).begin() as session:
        run = session.get(DailyRun, run_id)
        assert run is not None
        _ended(settings, session, run, end)


def _ended(settings: Settings, session: Session, run: DailyRun, end: dict[str, Any]) -> None:
    """Write a run's end (``finish_run``'s, or one kept in a file) into its record."""
    state, message = str(end["state"]), str(end["message"])
    run.finished_at = dt.datetime.fromisoformat(str(end["finished_at"]))
    run.outcome, run.message = state, message[:2000]
    run.counts = json.dumps(end["counts"], ensure_ascii=False)
    run.model_versions = str(end["versions"])
    audit(session, audit_key(settings, session), "daily job", "daily.run", run.day.isoformat(),
          len(end["counts"]["days"]), f"{state}: {message}"[:200])  # fmt: skip
