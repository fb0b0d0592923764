"""Training snapshots: features and labels of the scoring population at regular moments.

Only moments whose horizon ends by ``until`` are used, so every label is fully
observed. The time split keeps an embargo of one horizon between periods: the
labels of the last snapshot of a period end before the next period's first
moment, so the same case in several snapshots cannot carry an answer across.

Training calls ``snapshot_split``: the scoring populations and their labels first,
then the split and the fit period's sampling on those (case, moment) pairs, and
features only for the pairs kept. The fit period keeps a share of its all-negative
rows, so about half of all pairs were computed only to be dropped (issue 19).
Features are per pair (``build_features`` with ``pairs``), so the kept rows are the
same, in the same order (moment, then case id), as ``time_split(build_snapshots(...))``
gives; a test holds the two equal. Which negatives the fit period keeps is a function of
the (case, moment) pair and the seed, not of the rows' order, so a cluster that builds
the snapshots in pieces (``earlywarn.spark.snapshots``) keeps the same rows.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import polars as pl

from earlywarn.contract.loader import Dataset
from earlywarn.contract.rules import DEFAULT_HORIZON_DAYS, GROUP_THRESHOLD
from earlywarn.features.build import build_features
from earlywarn.features.labels import label_pairs, scoring_populations

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
    return moments_from(first_day, until, settings)


def moments_from(
    first_day: dt.datetime, until: dt.datetime, settings: SnapshotSettings
) -> list[dt.datetime]:
    """Every ``frequency_days`` from the first registration plus the warm-up, while the
    horizon still ends by ``until``."""
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
    features = build_features(dataset, moments).sort("as_of", "case_id")
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


def fit_sample(labelled: pl.DataFrame, share: float, seed: int) -> pl.Series:
    """Per row: kept in the fit sample (a positive label, or one of the ``share`` of the
    negatives picked by a hash of the case, the moment and the seed)."""
    draw = (pl.struct("case_id", "as_of").hash(seed=seed) % 2**53).cast(pl.Float64) / float(2**53)
    return labelled.select(
        (pl.col("escalation") | pl.col("collective") | (draw < share)).alias("kept")
    )["kept"]


def period_of(
    labelled: pl.DataFrame, settings: SnapshotSettings, seed: int, last: dt.datetime
) -> pl.Series:
    """Per row of ``labelled`` (case_id, as_of, both labels): fit (if sampled), validation,
    backtest or null, from the last moment of all the rows (``last``): oldest moments to
    fit, then validation (early stopping, calibration), newest as backtest, with an
    embargo of one horizon between them. Each row on its own."""
    embargo = dt.timedelta(days=settings.horizon_days)
    backtest_start = last - dt.timedelta(days=settings.backtest_days)
    validation_start = backtest_start - embargo - dt.timedelta(days=settings.validation_days)
    as_of = labelled["as_of"]
    # Keep every row with a positive label and a share of the others (the fit period only:
    # validation and backtest keep the true mix, so calibration and figures stay honest).
    fit = (as_of <= validation_start - embargo) & fit_sample(
        labelled, settings.fit_negative_share, seed
    )
    return labelled.select(
        pl.when(fit.alias("fit"))
        .then(pl.lit("fit"))
        .when((as_of > validation_start) & (as_of <= backtest_start - embargo))
        .then(pl.lit("validation"))
        .when(as_of > backtest_start)
        .then(pl.lit("backtest"))
        .alias("period")
    )["period"]


def check_periods(counts: dict[str, int]) -> None:
    if min(counts.get(name, 0) for name in ("fit", "validation", "backtest")) == 0:
        raise ValueError("the history is too short for fit, validation and backtest periods")


def _periods(
    labelled: pl.DataFrame, settings: SnapshotSettings, seed: int
) -> tuple[pl.Series, pl.Series, pl.Series]:
    """Which rows of ``labelled`` go to fit, validation and backtest (``period_of``)."""
    last = labelled["as_of"].max()
    assert isinstance(last, dt.datetime)
    period = period_of(labelled, settings, seed, last)
    check_periods({name: int((period == name).sum()) for name in ("fit", "validation", "backtest")})
    return period == "fit", period == "validation", period == "backtest"


def time_split(snapshots: pl.DataFrame, settings: SnapshotSettings, seed: int = 0) -> Split:
    """Oldest moments to fit, then validation (early stopping, calibration), newest as backtest."""
    fit, validation, backtest = _periods(snapshots, settings, seed)
    return Split(snapshots.filter(fit), snapshots.filter(validation), snapshots.filter(backtest))


@dataclass
class Snapshots:
    split: Split
    pairs: int  # (case, moment) pairs of the scoring populations
    left_out_treated: int  # of which left out: an action in their outcome window


def snapshot_split(
    dataset: Dataset,
    until: dt.datetime,
    settings: SnapshotSettings,
    treated: pl.DataFrame | None = None,
    seed: int = 0,
) -> Snapshots:
    """``time_split(without_treated(build_snapshots(...)))``, with features computed only
    for the (case, moment) pairs the split keeps."""
    moments = snapshot_moments(dataset, until, settings)
    pairs = scoring_populations(dataset.cases, dataset.contacts, dataset.actions, moments)
    # label_pairs keeps the order of the pairs, as build_features does: snapshot order.
    labelled = label_pairs(pairs, dataset.contacts, settings.horizon_days, settings.group_threshold)
    untreated = without_treated(labelled, treated, settings.horizon_days)
    fit, validation, backtest = _periods(untreated, settings, seed)
    period = (
        pl.when(fit).then(pl.lit("fit")).when(validation).then(pl.lit("validation"))
        .when(backtest).then(pl.lit("backtest"))
    )  # fmt: skip
    kept = (
        untreated.with_columns(period.alias("_period"))
        .filter(pl.col("_period").is_not_null())
        .sort("as_of", "case_id")
    )
    features = build_features(dataset, moments, pairs=kept.select("case_id", "as_of"))
    logger.info(
        "snapshots: %d of %d rows over %d moments (the rest: fit-period negatives not sampled)",
        features.height, labelled.height, len(moments),
    )  # fmt: skip
    snapshots = features.join(kept, on=["case_id", "as_of"], how="left", maintain_order="left")
    return split_snapshots(snapshots, labelled.height, labelled.height - untreated.height)


def split_snapshots(snapshots: pl.DataFrame, pairs: int, left_out: int) -> Snapshots:
    """Snapshots with a ``_period`` column (in snapshot order) as the three periods."""
    parts = {
        name: snapshots.filter(pl.col("_period") == name).drop("_period")
        for name in ("fit", "validation", "backtest")
    }
    return Snapshots(Split(parts["fit"], parts["validation"], parts["backtest"]), pairs, left_out)
