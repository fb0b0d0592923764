"""Training snapshots: features and labels of the scoring population at regular moments.

Only moments whose horizon ends by ``until`` are used, so every label is fully
observed. The time split keeps an embargo of one horizon between periods: the
labels of the last snapshot of a period end before the next period's first
moment, so the same case in several snapshots cannot carry an answer across.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import numpy as np
import polars as pl

from earlywarn.contract.loader import Dataset
from earlywarn.contract.rules import DEFAULT_HORIZON_DAYS, GROUP_THRESHOLD
from earlywarn.features.build import build_features
from earlywarn.features.labels import label_pairs

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SnapshotSettings:
    frequency_days: int = 7
    horizon_days: int = DEFAULT_HORIZON_DAYS
    group_threshold: int = GROUP_THRESHOLD
    warmup_days: int = 120  # history before the first snapshot, so that features have a past
    fit_negative_share: float = 0.3  # share of the fit period's all-negative rows kept
    validation_days: int = 91
    backtest_days: int = 91


def snapshot_moments(
    dataset: Dataset, until: dt.datetime, settings: SnapshotSettings
) -> list[dt.datetime]:
    first_day = dataset.cases["registered_at"].min()
    assert isinstance(first_day, dt.datetime)
    start = dt.datetime.combine(first_day.date(), dt.time()) + dt.timedelta(
        days=settings.warmup_days
    )
    last = until - dt.timedelta(days=settings.horizon_days)
    moments = []
    moment = start
    while moment <= last:
        moments.append(moment)
        moment += dt.timedelta(days=settings.frequency_days)
    if len(moments) < 10:
        raise ValueError(
            f"only {len(moments)} snapshot moments before {until}: the history is too short"
        )
    return moments


def build_snapshots(
    dataset: Dataset, until: dt.datetime, settings: SnapshotSettings
) -> pl.DataFrame:
    """Features and both labels for every (case, moment) of the scoring populations."""
    moments = snapshot_moments(dataset, until, settings)
    features = build_features(dataset, moments)
    labels = label_pairs(
        features.select("case_id", "as_of"),
        dataset.contacts,
        settings.horizon_days,
        settings.group_threshold,
    )
    logger.info("snapshots: %d rows over %d moments", features.height, len(moments))
    return features.join(labels, on=["case_id", "as_of"], how="left", maintain_order="left")


def without_treated(
    snapshots: pl.DataFrame, treated: pl.DataFrame | None, horizon_days: int
) -> pl.DataFrame:
    """Leave out the (case, moment) rows whose outcome window ``(as_of, as_of + H]``
    holds an action the office took because the case was listed (``treated``:
    case_id, acted_at): their outcome says what the action did, not what the case
    would have done (docs/treatment.md). Rows before and after that window stay."""
    if treated is None or treated.height == 0:
        return snapshots
    window = dt.timedelta(days=horizon_days)
    touched = (
        snapshots.select("case_id", "as_of")
        .join(treated.select("case_id", "acted_at"), on="case_id", how="inner")
        .filter(
            (pl.col("acted_at") > pl.col("as_of"))
            & (pl.col("acted_at") <= pl.col("as_of") + window)
        )
        .select("case_id", "as_of")
        .unique()
    )
    kept = snapshots.join(touched, on=["case_id", "as_of"], how="anti", maintain_order="left")
    logger.info(
        "snapshots: %d rows left out, an action in their outcome window",
        snapshots.height - kept.height,
    )
    return kept


@dataclass
class Split:
    fit: pl.DataFrame
    validation: pl.DataFrame
    backtest: pl.DataFrame

    def windows(self) -> dict[str, str]:
        def span(frame: pl.DataFrame) -> str:
            first, last = frame["as_of"].min(), frame["as_of"].max()
            assert isinstance(first, dt.datetime) and isinstance(last, dt.datetime)
            return f"{first:%Y-%m-%d} .. {last:%Y-%m-%d}"

        return {
            "fit": span(self.fit),
            "validation": span(self.validation),
            "backtest": span(self.backtest),
        }


def time_split(snapshots: pl.DataFrame, settings: SnapshotSettings, seed: int = 0) -> Split:
    """Oldest moments to fit, then validation (early stopping, calibration), newest as backtest."""
    last = snapshots["as_of"].max()
    assert isinstance(last, dt.datetime)
    embargo = dt.timedelta(days=settings.horizon_days)
    backtest_start = last - dt.timedelta(days=settings.backtest_days)
    validation_start = backtest_start - embargo - dt.timedelta(days=settings.validation_days)
    as_of = pl.col("as_of")
    backtest = snapshots.filter(as_of > backtest_start)
    validation = snapshots.filter((as_of > validation_start) & (as_of <= backtest_start - embargo))
    fit = snapshots.filter(as_of <= validation_start - embargo)
    if min(fit.height, validation.height, backtest.height) == 0:
        raise ValueError("the history is too short for fit, validation and backtest periods")
    # Keep every row with a positive label and a share of the others (the fit period only:
    # validation and backtest keep the true mix, so calibration and figures stay honest).
    rng = np.random.default_rng(seed)
    keep = (
        fit["escalation"].to_numpy()
        | fit["collective"].to_numpy()
        | (rng.random(fit.height) < settings.fit_negative_share)
    )
    return Split(fit.filter(pl.Series(keep)), validation, backtest)
