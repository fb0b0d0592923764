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

import polars as pl
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.contract import Mode, load_dataset
from earlywarn.features.build import build_features
from earlywarn.models.artifact import TARGETS, RiskModel
from earlywarn.models.scoring import score_table
from earlywarn.serving.access import audit
from earlywarn.serving.exports import csv_bytes, write_atomically, xlsx_bytes
from earlywarn.serving.store import RiskList, RiskListItem
from earlywarn.settings import Settings
from earlywarn.training import registry

logger = logging.getLogger(__name__)
ITEM_COLUMNS = [
    "rank", "case_id", "county_code", "township_code", "category", "escalation_probability",
    "collective_probability", "escalation_flag", "collective_flag", "risk_band", "reasons",
    "days_since_last_contact",
]  # fmt: skip
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


def end_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time())


def rank_list(
    scores: pl.DataFrame, features: pl.DataFrame, cases: pl.DataFrame, models: dict[str, RiskModel]
) -> pl.DataFrame:
    """The list in the order people read it: band, then how far past its alert threshold."""
    urgency = pl.max_horizontal(
        pl.col(f"{t}_probability") / max(models[t].threshold, 1e-12) for t in TARGETS
    )
    return (
        scores.join(
            features.select("case_id", "county_code", "category", "days_since_last_contact"),
            on="case_id",
        )
        .join(cases.select("case_id", "township_code"), on="case_id", how="left")
        .with_columns(
            pl.col("category").cast(pl.String),
            pl.col("risk_band").replace_strict(_BAND_ORDER).alias("_band"),
            urgency.alias("_urgency"),
        )
        .sort(["_band", "_urgency", "case_id"], descending=[False, True, False])
        .with_row_index("rank", offset=1)
        .with_columns(pl.col("rank").cast(pl.Int64))
        .drop("_band", "_urgency")
    )


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
        session.execute(insert(RiskListItem), rows)
    return checksum, True


def build_risk_list(
    settings: Settings, data: Path, list_date: dt.date, sessions: sessionmaker[Session]
) -> RiskListResult:
    as_of = end_of_day(list_date)
    dataset = load_dataset(data, Mode.LENIENT, settings.quarantine_dir(data))
    registry.connect(settings)
    loaded = {target: registry.load(target) for target in TARGETS}
    models = {target: model for target, (model, _) in loaded.items()}
    versions = {
        target: f"{registry.model_name(target)}/{version}"
        for target, (_, version) in loaded.items()
    }
    features = build_features(dataset, [as_of])
    scores = score_table(features, models, versions)
    items = rank_list(scores, features, dataset.cases, models)
    version_text = ", ".join(versions.values())
    with sessions.begin() as session:
        checksum, changed = store_list(session, list_date, as_of, items, version_text)
        audit(
            session,
            "risk-list job",
            "risk_list.build",
            list_date.isoformat(),
            items.height,
            "changed" if changed else "unchanged",
        )
    folder = settings.work_dir / "risk-lists" / list_date.isoformat()
    files = {
        "scores": folder / "scores.csv",
        "csv": folder / "risk-list.csv",
        "xlsx": folder / "risk-list.xlsx",
    }
    score_buffer = scores.write_csv(datetime_format="%Y-%m-%dT%H:%M:%S").encode("utf-8")
    write_atomically(files["scores"], score_buffer)
    # The exports are the list people act on: the high and medium bands; the score
    # file and the store keep every case.
    listed = items.filter(pl.col("risk_band") != "low")
    write_atomically(files["csv"], csv_bytes(listed))
    write_atomically(files["xlsx"], xlsx_bytes(listed))
    high = items.filter(pl.col("risk_band") == "high").height
    medium = listed.height - high
    logger.info(
        "risk list %s: %d cases, %d high, checksum %s", list_date, items.height, high, checksum[:12]
    )
    return RiskListResult(list_date, as_of, items.height, high, medium, checksum, changed, files)
