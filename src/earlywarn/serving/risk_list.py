"""The daily risk list: score the population at the end of a day, store it, export it.

Idempotent: the same day, data and models give the same list (a checksum), and
storing it again changes nothing. The database part is one transaction and the
files are renamed into place, so a crash part-way leaves the previous list intact.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import polars as pl
from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.contract import Dataset
from earlywarn.contract.rules import TARGETS, end_of_day
from earlywarn.features.build import build_features, sources_for
from earlywarn.models.artifact import RiskModel
from earlywarn.models.capacity import Capacity
from earlywarn.models.reasons import to_json
from earlywarn.models.registry import LoadedModels
from earlywarn.models.scoring import Chooser, ScoredTable, score_frame, score_table
from earlywarn.models.steps import to_json as steps_to_json
from earlywarn.serving.audit import anchor_file, audit, audit_key, write_anchor
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
    day_lock,
    list_folder,
    verify_list_files,
    write_list_files,
)
from earlywarn.serving.store import ITEM_COLUMNS, RiskList, RiskListItem
from earlywarn.settings import Settings

logger = logging.getLogger(__name__)
ITEMS_TABLE = cast(Table, RiskListItem.__table__)
_BAND_ORDER = {"high": 0, "medium": 1, "low": 2}


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


def reading_order(
    models: dict[str, RiskModel],
    probability: dict[str, np.ndarray],
    risk_band: np.ndarray,
    case_ids: pl.Series,
) -> np.ndarray:
    """Row numbers in the order people read the list: band, then how far past its alert
    threshold, then the case id (a stable order for equal scores)."""
    urgency = np.maximum.reduce([probability[t] / max(models[t].threshold, 1e-12) for t in TARGETS])
    frame = pl.DataFrame(
        {
            "band": pl.Series(risk_band).replace_strict(_BAND_ORDER, return_dtype=pl.Int8),
            "urgency": urgency,
            "case_id": case_ids,
        }
    )
    ordered = frame.with_row_index("row").sort(
        ["band", "urgency", "case_id"], descending=[False, True, False]
    )
    return ordered["row"].to_numpy()


def rows_read(models: dict[str, RiskModel], case_ids: pl.Series, capacity: Capacity) -> Chooser:
    """The rows the job explains: the first of the list up to the office's capacity, and
    every flagged row beyond it (flagged rows come first in the order). The other rows of
    the medium band get their reasons on demand (``serving.reasons_later``)."""

    def choose(probability: dict[str, np.ndarray], risk_band: np.ndarray) -> np.ndarray:
        order = reading_order(models, probability, risk_band, case_ids)
        read = max(capacity.at(len(order)), int(np.count_nonzero(risk_band == "high")))
        chosen = np.zeros(len(order), dtype=bool)
        chosen[order[:read]] = True
        return chosen

    return choose


def list_items(
    scored: ScoredTable, features: pl.DataFrame, cases: pl.DataFrame, models: dict[str, RiskModel]
) -> pl.DataFrame:
    """The list in the order people read it (``reading_order``), ranked.

    Reasons and steps are kept as data (JSON), as ``models.scoring`` gave them.
    """
    order = reading_order(models, scored.probability, scored.risk_band, features["case_id"])
    scores = features.select(
        "case_id", "county_code", "category", "days_since_last_contact"
    ).with_columns(
        pl.Series("escalation_probability", scored.probability["escalation"]),
        pl.Series("collective_probability", scored.probability["collective"]),
        pl.Series("escalation_flag", scored.band["escalation"] == "high"),
        pl.Series("collective_flag", scored.band["collective"] == "high"),
        pl.Series("risk_band", scored.risk_band),
        pl.Series("reasons", [to_json(r) for r in scored.reasons]),
        pl.Series("steps", [steps_to_json(s) for s in scored.steps]),
    )
    return (
        scores[order]
        .join(
            cases.select("case_id", "township_code"),
            on="case_id",
            how="left",
            maintain_order="left",
        )
        .with_columns(pl.col("category").cast(pl.String))
        .with_row_index("rank", offset=1)
        .with_columns(pl.col("rank").cast(pl.Int64))
    )


def unexplained(features: pl.DataFrame, scored: ScoredTable) -> pl.DataFrame:
    """The features of the listed rows the job did not explain, by case id: what their
    reasons are computed from when someone opens them."""
    waiting = [
        band != "low" and not reasons
        for band, reasons in zip(scored.risk_band.tolist(), scored.reasons, strict=True)
    ]
    return features.filter(pl.Series(waiting, dtype=pl.Boolean)).sort("case_id")


def checksum_of(items: pl.DataFrame, versions: str) -> str:
    content = items.select(ITEM_COLUMNS).write_csv(float_precision=12).encode("utf-8")
    return hashlib.sha256(versions.encode("utf-8") + b"\n" + content).hexdigest()


def store_list(
    session: Session, list_date: dt.date, as_of: dt.datetime, items: pl.DataFrame, versions: str
) -> tuple[str, bool]:
    """Replace the day's list in the caller's transaction unless it is already the same."""
    checksum = checksum_of(items, versions)
    existing = session.scalars(select(RiskList).where(RiskList.list_date == list_date)).first()
    if existing is not None and existing.checksum == checksum:
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
    )
    session.add(header)
    session.flush()
    rows = items.select(ITEM_COLUMNS).with_columns(pl.lit(header.id).alias("list_id")).to_dicts()
    if rows:
        # Core executemany on the table (not the ORM's bulk path): half the time.
        session.execute(insert(ITEMS_TABLE), rows)
    return checksum, True


def build_risk_list(
    settings: Settings,
    dataset: Dataset,
    list_date: dt.date,
    sessions: sessionmaker[Session],
    models: LoadedModels,
) -> RiskListResult:
    """Score the day's population with these models, store the list, write its files."""
    as_of = end_of_day(list_date)
    folder = list_folder(settings, list_date)
    with day_lock(folder):
        with sessions() as session:
            before = previous_list(session, list_date)
        first = min(as_of, before.as_of) if before else as_of
        sources = sources_for(dataset, first, as_of)  # both moments' context and calendar
        features = build_features(dataset, [as_of], sources=sources)
        capacity = Capacity(settings.capacity_share, settings.capacity_minimum)
        scored = score_frame(
            models, features, choose=rows_read(models.models, features["case_id"], capacity)
        )
        items = list_items(scored, features, dataset.cases, models.models)
        basis = read_basis(list_folder(settings, before.list_date)) if before else None
        if before is not None and basis is not None:
            before = before.with_basis(basis, items)
        elif before is not None:
            with sessions() as session:
                before = before.with_rows(session, items)
        changes = list_changes(dataset, features, items, before, sources, basis)
        items = items.with_columns(pl.Series("changes", changes, dtype=pl.String))
        version_text = models.version_text
        with sessions.begin() as session:
            checksum, changed = store_list(session, list_date, as_of, items, version_text)
            audit(
                session,
                audit_key(settings),
                "risk-list job",
                "risk_list.build",
                list_date.isoformat(),
                items.height,
                "changed" if changed else "unchanged",
            )
        with sessions() as session:
            write_anchor(session, anchor_file(settings), f"risk list {list_date}")
        scores = score_table(features, models, scored)
        info = LedgerInfo(list_date, as_of, version_text, county=None)
        later = {UNEXPLAINED: unexplained(features, scored), BASIS: change_basis(features, items)}
        printed = capacity.at(items.height)
        files = write_list_files(folder, scores, items, checksum, info, later, printed)
    high = items.filter(pl.col("risk_band") == "high").height
    medium = items.filter(pl.col("risk_band") == "medium").height
    logger.info(
        "risk list %s: %d cases, %d high, checksum %s", list_date, items.height, high, checksum[:12]
    )
    return RiskListResult(
        list_date, as_of, items.height, high, medium, checksum, changed, files, features,
        scored.probability,
    )  # fmt: skip


def verify_list(settings: Settings, sessions: sessionmaker[Session], day: dt.date) -> list[str]:
    """``risk-list --verify``: the day's files against the list the store holds."""
    with sessions() as session:
        stored = session.scalar(select(RiskList.checksum).where(RiskList.list_date == day))
    return verify_list_files(list_folder(settings, day), stored)
