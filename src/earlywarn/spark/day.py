"""The daily list's scoring on a cluster: features and scores on the executors; the
driver collects the list's rows (a few columns per case), the features of the listed
rows explained on demand, and nothing else. Storing and writing the list is the
embedded path's own (``serving.risk_list.store_scored_list``)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

import polars as pl

from earlywarn.features.events import KEYS
from earlywarn.models.capacity import Capacity
from earlywarn.models.registry import LoadedModels
from earlywarn.serving.day_scores import (
    LIST_COLUMNS,
    DayScorer,
    DayScores,
    explained_count,
    rank_rows,
)
from earlywarn.serving.list_changes import NEEDED
from earlywarn.spark.dataset import SparkDataset
from earlywarn.spark.features import spark_features
from earlywarn.spark.frames import collect, to_arrow
from earlywarn.spark.scoring import (
    SCORED,
    WAITING,
    broadcast_models,
    chosen_rows,
    list_scores,
    row_schema,
)

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)
_LIST = [*LIST_COLUMNS, *SCORED, "reasons", "steps"]


def spark_scores(
    data: SparkDataset, models: LoadedModels, capacity: Capacity, partitions: int
) -> DayScorer:
    """The day scored on the cluster that ``data`` was read by."""

    def run(as_of: dt.datetime, first: dt.datetime) -> DayScores:
        features, schema = spark_features(data, [as_of], partitions, calendar_from=first)
        features = features.persist()
        models_of = broadcast_models(features, models)
        chosen = chosen_rows(
            features, schema, models_of, lambda rows, high: explained_count(capacity, rows, high)
        )
        rows_frame = list_scores(features, schema, models_of, chosen).persist()
        townships = data.cases.select("case_id", "township_code")
        rows = collect(
            rows_frame.join(townships, on="case_id", how="left"),
            {**row_schema(schema), "township_code": pl.String},
        )
        waiting = rows_frame.filter(rows_frame[WAITING]).select(*KEYS)
        unexplained = collect(features.join(waiting, on=KEYS, how="left_semi"), schema)

        def earlier(pairs: pl.DataFrame) -> pl.DataFrame:
            moments = pairs["as_of"].unique().to_list()
            asked = data.session.createDataFrame(to_arrow(pairs.select(KEYS)))
            found, found_schema = spark_features(
                data, moments, partitions, pairs=asked, calendar_from=first
            )
            return collect(found, found_schema)

        items = rank_rows(
            rows.select(_LIST), rows.select("case_id", "township_code"), models.models
        )
        scores = rows.select(
            "case_id", "as_of", *SCORED, pl.col("reasons_text").alias("reasons"), "model_version"
        ).sort("case_id")
        logger.info("spark: %d rows scored, %d explained later", rows.height, unexplained.height)
        # What the stages cached is collected now: free the executors' memory for the
        # next day (a catch-up run builds several in one session).
        data.session.catalog.clearCache()
        return DayScores(
            items=items,
            scores=scores,
            needed=rows.select("case_id", *NEEDED),
            unexplained=unexplained.sort("case_id"),
            earlier=earlier,
        )

    return run
