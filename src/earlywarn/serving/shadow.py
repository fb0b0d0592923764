"""The challenger in shadow: scored beside the champion every day, never shown to offices.

Each day's challenger probabilities for every case of the population are kept in
the list's folder (``shadow.parquet``: case_id, as_of, the versions, a probability
per target); once a day's horizon has passed, ``matured_shadow`` joins them with
the champion's stored probabilities and what happened, so that the two models can
be compared on the same cases and outcomes.
"""

from __future__ import annotations

import datetime as dt
import io

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from earlywarn.contract import Dataset
from earlywarn.contract.rules import DEFAULT_HORIZON_DAYS, TARGETS
from earlywarn.features.labels import label_targets
from earlywarn.files import write_atomically
from earlywarn.models.registry import LoadedModels
from earlywarn.serving.list_files import list_folder
from earlywarn.serving.monitor.quality import outcomes_known_until
from earlywarn.serving.store import RiskList, RiskListItem
from earlywarn.settings import Settings

SHADOW_FILE = "shadow.parquet"


def write_shadow(
    settings: Settings, day: dt.date, features: pl.DataFrame, challengers: LoadedModels
) -> pl.DataFrame:
    """Score the day's population with the challengers and keep it beside the list."""
    shadow = features.select("case_id", "as_of").with_columns(
        *(
            pl.Series(f"{t}_probability", challengers.models[t].probability(features))
            for t in TARGETS
        ),
        *(pl.lit(challengers.numbers[t]).alias(f"{t}_version") for t in TARGETS),
    )
    buffer = io.BytesIO()
    shadow.write_parquet(buffer)
    write_atomically(list_folder(settings, day) / SHADOW_FILE, buffer.getvalue())
    return shadow


def matured_shadow(
    settings: Settings,
    session: Session,
    dataset: Dataset,
    as_of: dt.datetime,
    target: str,
    challenger: str,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> pl.DataFrame:
    """Every case of the matured days that this challenger version scored: as_of,
    case_id, county_code, the champion's probability (``champion``), the challenger's
    (``challenger``) and what happened (``happened``)."""
    known_until = outcomes_known_until(dataset, as_of)  # not the calendar alone
    lists = (
        []
        if known_until is None
        else session.execute(
            select(RiskList.id, RiskList.list_date, RiskList.as_of).where(
                RiskList.as_of <= known_until - dt.timedelta(days=horizon_days)
            )
        ).all()
    )
    frames = []
    for list_id, day, list_as_of in lists:
        path = list_folder(settings, day) / SHADOW_FILE
        if not path.exists():
            continue
        shadow = pl.read_parquet(path)
        if shadow.height == 0 or shadow[f"{target}_version"][0] != challenger:
            continue  # another challenger's shadow
        probability = getattr(RiskListItem, f"{target}_probability")
        champion = pl.DataFrame(
            session.execute(
                select(RiskListItem.case_id, RiskListItem.county_code, probability)
                .where(RiskListItem.list_id == list_id)
            ).all(),
            schema=["case_id", "county_code", "champion"],
            orient="row",
        )  # fmt: skip
        happened = label_targets(champion.select("case_id"), dataset.contacts, list_as_of)
        frames.append(
            champion.join(
                shadow.select("case_id", pl.col(f"{target}_probability").alias("challenger")),
                on="case_id",
            )
            .join(happened.select("case_id", pl.col(target).alias("happened")), on="case_id")
            .with_columns(pl.lit(list_as_of).alias("as_of"))
        )
    if not frames:
        return pl.DataFrame()
    return pl.concat(frames)
