"""Training snapshots built on a cluster: the same pairs, labels, periods and sample as
``training.snapshots.snapshot_split``, computed by its own functions on the executors.

1. Per group of cases: the scoring populations at the snapshot moments, their labels,
   the rows an office's action touched left out (``without_treated``).
2. The last moment over all rows, then each row's period (``period_of``: the fit
   sample is a hash of the case, the moment and the seed, so it is the same wherever
   the row is computed).
3. Features for the kept pairs (``spark_features``), joined to their labels, and
   collected: the fit sample, validation and backtest go to the driver, where LightGBM
   fits on one machine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING

import polars as pl
import pyarrow as pa

from earlywarn.features.labels import label_pairs, scoring_populations
from earlywarn.spark.dataset import SparkDataset
from earlywarn.spark.features import case_groups, spark_features, typed_rows
from earlywarn.spark.frames import Schema, collect, from_arrow, spark_schema, to_arrow
from earlywarn.training.snapshots import (
    Snapshots,
    SnapshotSettings,
    check_periods,
    moments_from,
    period_of,
    split_snapshots,
    without_treated,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

_LABELS: Schema = {
    "case_id": pl.String,
    "as_of": pl.Datetime("us"),
    "escalation": pl.Boolean,
    "collective": pl.Boolean,
    "_treated": pl.Boolean,  # left out: an action in its outcome window
}
_PERIODS: Schema = {**{k: v for k, v in _LABELS.items() if k != "_treated"}, "_period": pl.String}


def _labelled(
    data: SparkDataset,
    moments: list[dt.datetime],
    settings: SnapshotSettings,
    treated: pl.DataFrame | None,
    partitions: int,
) -> DataFrame:
    """Stage 1: every (case, moment) pair of the populations with its labels."""

    has_actions = data.actions is not None

    def run(cases: pa.Table, events: pa.Table) -> pa.Table:
        case_frame, contacts, actions, _ = typed_rows(cases, events, has_actions)
        pairs = scoring_populations(case_frame, contacts, actions, moments)
        labelled = label_pairs(pairs, contacts, settings.horizon_days, settings.group_threshold)
        kept = without_treated(labelled, treated, settings.horizon_days).select(
            "case_id", "as_of", pl.lit(False).alias("_kept_flag")
        )
        marked = labelled.join(kept, on=["case_id", "as_of"], how="left").with_columns(
            pl.col("_kept_flag").is_null().alias("_treated")
        )
        return to_arrow(marked.select(list(_LABELS)).cast(dict(_LABELS)))  # type: ignore[arg-type]

    grouped_cases, grouped_events = case_groups(data, partitions)
    return grouped_cases.cogroup(grouped_events).applyInArrow(run, spark_schema(_LABELS))


def spark_snapshot_split(
    data: SparkDataset,
    until: dt.datetime,
    settings: SnapshotSettings,
    partitions: int,
    treated: pl.DataFrame | None = None,
    seed: int = 0,
) -> Snapshots:
    """``snapshot_split`` on the cluster: the same rows, in the same order."""
    from pyspark.sql import functions as sf

    first = data.cases.agg(sf.min("registered_at")).first()
    assert first is not None and isinstance(first[0], dt.datetime)
    moments = moments_from(first[0], until, settings)
    labelled = _labelled(data, moments, settings, treated, partitions).persist()
    totals = labelled.agg(
        sf.count("*"),
        sf.sum(sf.col("_treated").cast("long")),
        sf.max(sf.when(~sf.col("_treated"), sf.col("as_of"))),
    ).first()
    assert totals is not None
    pairs, left_out, last = int(totals[0]), int(totals[1] or 0), totals[2]
    if not isinstance(last, dt.datetime):
        raise ValueError("the history is too short for fit, validation and backtest periods")

    def periods(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            rows = from_arrow(batch, _LABELS).filter(~pl.col("_treated")).drop("_treated")
            found = rows.with_columns(period_of(rows, settings, seed, last).alias("_period"))
            yield from to_arrow(found.filter(pl.col("_period").is_not_null())).to_batches()

    kept = labelled.mapInArrow(periods, spark_schema(_PERIODS)).persist()
    counts = {row[0]: int(row[1]) for row in kept.groupBy("_period").count().collect()}
    check_periods(counts)
    features, schema = spark_features(
        data, moments, partitions, pairs=kept.select("case_id", "as_of")
    )
    joined = features.join(kept, on=["case_id", "as_of"], how="left")
    snapshots = collect(joined, {**schema, **_PERIODS}).sort("as_of", "case_id")
    data.session.catalog.clearCache()  # every stage's cache, the features' included
    return split_snapshots(
        snapshots.select(*schema, "escalation", "collective", "_period"), pairs, left_out
    )


class SparkSnapshots:
    """``training.pipeline.train``'s snapshots, built on the cluster that read ``data``."""

    def __init__(self, data: SparkDataset, partitions: int) -> None:
        self.data, self.partitions, self.name = data, partitions, data.path

    def build(
        self, until: dt.datetime, settings: SnapshotSettings, treated: pl.DataFrame | None
    ) -> Snapshots:
        return spark_snapshot_split(self.data, until, settings, self.partitions, treated)
