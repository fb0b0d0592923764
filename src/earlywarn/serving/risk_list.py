"""The daily risk list: score the population at the end of a day, store it, export it.

Idempotent: the same day, data and models give the same list (a checksum), and
storing it again changes nothing. The database part is one transaction and the
files are renamed into place, so a crash part-way leaves the previous list intact.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.contract import Dataset
from earlywarn.contract.rules import end_of_day
from earlywarn.models.capacity import Capacity
from earlywarn.models.registry import LoadedModels
from earlywarn.serving.audit import anchor_file, audit, audit_key, write_anchor
from earlywarn.serving.day_scores import DayScorer, embedded_scores
from earlywarn.serving.ledger import LedgerInfo
from earlywarn.serving.list_changes import (
    BASIS,
    change_basis,
    list_changes,
    previous_list,
    read_basis,
)
from earlywarn.serving.list_files import (
    UNEXPLAINED,
    MadeFiles,
    day_lock,
    keep_replaced,
    list_file_contents,
    list_folder,
    verify_list_files,
    write_list_files,
)
from earlywarn.serving.list_store import staged_items
from earlywarn.serving.store import ITEM_COLUMNS, RiskList, RiskListItem
from earlywarn.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RiskListResult:
    list_date: dt.date
    as_of: dt.datetime
    rows: int
    high: int
    medium: int
    checksum: str
    changed: bool
    files: dict[str, Path]
    features: pl.DataFrame | None = None  # the day's features, for monitoring and the shadow
    probability: dict[str, np.ndarray] | None = None  # per target, row by row of ``features``
    replaced: Path | None = None  # where the day's earlier, other list's files were moved

    @property
    def stored_words(self) -> str:
        """What the run did with the list, in the words of every command that builds one."""
        if self.changed:
            return "stored 已保存"
        return "already stored, files checked 已保存过，文件已核对"


def checksum_of(items: pl.DataFrame, versions: str) -> str:
    content = items.select(ITEM_COLUMNS).write_csv(float_precision=12).encode("utf-8")
    return hashlib.sha256(versions.encode("utf-8") + b"\n" + content).hexdigest()


def store_list(
    session: Session,
    list_date: dt.date,
    as_of: dt.datetime,
    items: pl.DataFrame,
    versions: str,
    capacity: int | None = None,
    staged: Callable[[], None] = lambda: None,
) -> tuple[str, bool]:
    """Replace the day's list in the caller's transaction unless it is already the same;
    ``capacity``: the rows of a day's work it was made with, kept with it. ``staged`` is
    called once the rows are handed to the store (``list_store``): what is left of the
    store's work runs without the interpreter's lock, so other Python can run beside it.

    The rows are staged before the checksum says whether they are needed: the checksum
    (Polars, without the lock) is made meanwhile, and a rerun of an unchanged list, the
    rare case, drops them."""
    # In the order of the (list, county, rank) index, which then grows at one end; the
    # (list, case) key takes them anywhere, in the page cache (a million real rows: 7.6
    # to 8.1 s, against 8.2 to 10.9 s in case order with the county index of 0007).
    # Nothing reads the rows in insertion order.
    rows = items.select(ITEM_COLUMNS).sort("county_code", "rank")
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="list-checksum") as pool:
        summed = pool.submit(checksum_of, items, versions)
        with staged_items(session, rows) as file_under:
            staged()
            checksum = summed.result()
            existing = session.scalars(
                select(RiskList).where(RiskList.list_date == list_date)
            ).first()
            if existing is not None and existing.checksum == checksum:
                existing.capacity = capacity if capacity is not None else existing.capacity
                return checksum, False
            if existing is not None:
                session.execute(delete(RiskListItem).where(RiskListItem.list_id == existing.id))
                session.delete(existing)
                session.flush()
            header = RiskList(
                list_date=list_date,
                as_of=as_of,
                checksum=checksum,
                model_versions=versions,
                rows=items.height,
                capacity=capacity,
            )
            session.add(header)
            session.flush()
            file_under(header.id)
    return checksum, True


def build_risk_list(
    settings: Settings,
    dataset: Dataset,
    list_date: dt.date,
    sessions: sessionmaker[Session],
    models: LoadedModels,
) -> RiskListResult:
    """Score the day's population with these models on this machine, store the list,
    write its files."""
    capacity = Capacity(settings.capacity_share, settings.capacity_minimum)
    scorer = embedded_scores(dataset, models, capacity)
    return store_scored_list(settings, list_date, sessions, models, scorer)


def store_scored_list(
    settings: Settings,
    list_date: dt.date,
    sessions: sessionmaker[Session],
    models: LoadedModels,
    scorer: DayScorer,
) -> RiskListResult:
    """The day's population scored by ``scorer`` (on this machine or a cluster): its
    changes since the previous list, then stored and written, whichever engine scored."""
    as_of = end_of_day(list_date)
    folder = list_folder(settings, list_date)
    capacity = Capacity(settings.capacity_share, settings.capacity_minimum)
    with day_lock(folder):
        with sessions() as session:
            before = previous_list(session, list_date)
        first = min(as_of, before.as_of) if before else as_of
        day = scorer(as_of, first)
        items = day.items
        basis = read_basis(list_folder(settings, before.list_date)) if before else None
        if before is not None and basis is not None:
            before = before.with_basis(basis, items)
        elif before is not None:
            with sessions() as session:
                before = before.with_rows(session, items)
        changes = list_changes(day.earlier, day.needed, items, before, basis)
        items = items.with_columns(pl.Series("changes", changes, dtype=pl.String))
        version_text = models.version_text
        printed = capacity.at(items.height)
        info = LedgerInfo(list_date, as_of, version_text, county=None, capacity=printed)
        later = {UNEXPLAINED: day.unexplained, BASIS: change_basis(day.needed, items)}
        staged = threading.Event()

        def contents_once_staged() -> MadeFiles:
            # Made in memory while the store files the rows into its keys (SQLite, without
            # the interpreter's lock), not while they are handed to it: two threads of
            # Python on one lock each ran at half speed. On disk once committed.
            staged.wait()
            return list_file_contents(day.scores, items, info, later, printed)

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="list-files") as pool:
            made = pool.submit(contents_once_staged)
            try:
                with sessions.begin() as session:
                    checksum, changed = store_list(
                        session, list_date, as_of, items, version_text, printed, staged.set
                    )
                    audit(
                        session,
                        audit_key(settings, session),
                        "risk-list job",
                        "risk_list.build",
                        list_date.isoformat(),
                        items.height,
                        "changed" if changed else "unchanged",
                    )
                with sessions() as session:
                    write_anchor(session, anchor_file(settings), f"risk list {list_date}")
            finally:
                staged.set()  # a failed store: the thread ends and the error is raised
            contents = made.result()
        replaced = keep_replaced(folder, checksum)
        files = write_list_files(folder, contents, checksum, version_text)
    if replaced is not None:
        logger.warning("risk list %s replaced; the earlier list's files: %s", list_date, replaced)
    high = items.filter(pl.col("risk_band") == "high").height
    medium = items.filter(pl.col("risk_band") == "medium").height
    logger.info(
        "risk list %s: %d cases, %d high, checksum %s", list_date, items.height, high, checksum[:12]
    )
    return RiskListResult(
        list_date, as_of, items.height, high, medium, checksum, changed, files, day.features,
        day.probability, replaced,
    )  # fmt: skip


class NoListError(LookupError):
    """The store holds no list for the day."""


def verify_list(settings: Settings, sessions: sessionmaker[Session], day: dt.date) -> list[str]:
    """``risk-list --verify``: what is wrong with the day's files (empty: they are the
    list the store holds); ``NoListError`` when it holds none."""
    with sessions() as session:
        stored = session.scalar(select(RiskList.checksum).where(RiskList.list_date == day))
    if stored is None:
        raise NoListError(f"no list for {day} in the store")
    return verify_list_files(list_folder(settings, day), stored)
