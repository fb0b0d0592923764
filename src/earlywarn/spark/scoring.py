"""Scoring on a cluster's executors: the models broadcast once, each batch of feature
rows scored by ``models.scoring`` on one thread per task, as this machine scores a table.

Probabilities, bands and explanations depend on nothing but the row, so a batch gives
what the whole table would; the rows the daily list explains (the top of the list up
to the office's capacity) are chosen once, from every row's probabilities, and sent back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pyarrow as pa

from earlywarn.contract.rules import TARGETS
from earlywarn.models.registry import LoadedModels
from earlywarn.models.scoring import Chooser, banded, listed, score_frame, score_table
from earlywarn.serving.day_scores import BAND_ORDER, LIST_COLUMNS, list_rows, urgency
from earlywarn.serving.list_changes import NEEDED
from earlywarn.spark.frames import Schema, from_arrow, spark_schema, to_arrow

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

BatchFunction = Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]
CHOSEN = "_explain"  # the column that marks the rows the list explains
WAITING = "_waiting"  # listed rows whose reasons come on demand
PROBABILITY_SCHEMA: Schema = {
    "case_id": pl.String,
    "band_order": pl.Int32,
    "urgency": pl.Float64,
    "risk_band": pl.String,
}
# Per row and per target: probability and flag; overall: the band.
SCORED: Schema = {
    "escalation_probability": pl.Float64,
    "collective_probability": pl.Float64,
    "escalation_flag": pl.Boolean,
    "collective_flag": pl.Boolean,
    "risk_band": pl.String,
}


def _matrices(models: LoadedModels, frame: pl.DataFrame) -> dict[str, np.ndarray]:
    return {t: models.models[t].matrix(frame) for t in TARGETS}


def probability_function(models_of: Callable[[], LoadedModels], schema: Schema) -> BatchFunction:
    """Per row: its band's place in the reading order and its urgency (what orders the list)."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        models = models_of()
        for batch in batches:
            frame = from_arrow(batch, schema)
            probability, _, risk_band = banded(models.models, _matrices(models, frame), 1)
            out = pl.DataFrame(
                {
                    "case_id": frame["case_id"],
                    "band_order": [BAND_ORDER[b] for b in risk_band.tolist()],
                    "urgency": urgency(models.models, probability),
                    "risk_band": risk_band,
                },
                schema=dict(PROBABILITY_SCHEMA),
            )
            yield from to_arrow(out).to_batches()

    return run


def score_file_schema(features: Schema) -> Schema:
    """The score file's columns (contract section 5)."""
    return {
        "case_id": pl.String,
        "as_of": features["as_of"],
        **SCORED,
        "reasons": pl.String,
        "model_version": pl.String,
    }


def row_schema(features: Schema) -> Schema:
    """What the list's scoring gives per row: the list's columns, the score file's, and
    the features the next day's changes compare."""
    return {
        **{n: features[n] for n in LIST_COLUMNS},
        **SCORED,
        "reasons": pl.String,
        "steps": pl.String,
        "as_of": features["as_of"],
        "reasons_text": pl.String,
        "model_version": pl.String,
        **{n: features[n] for n in NEEDED},
        WAITING: pl.Boolean,
    }


def _marked(rows: np.ndarray) -> Chooser:
    return lambda _probability, _band: rows


def list_function(models_of: Callable[[], LoadedModels], schema: Schema) -> BatchFunction:
    """Per row: ``list_rows`` and the score file's columns; reasons and steps for the rows
    marked ``CHOSEN`` (the list's choice) and their medium and high bands."""
    out_schema = row_schema(schema)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        models = models_of()
        for batch in batches:
            frame = from_arrow(batch, schema)
            marked = from_arrow(batch, {CHOSEN: pl.Boolean})[CHOSEN].fill_null(False)
            scored = score_frame(models, frame, choose=_marked(marked.to_numpy()), threads=1)
            scores = score_table(frame, models, scored)
            rows = pl.concat(
                [
                    list_rows(scored, frame),
                    frame.select("as_of", *NEEDED),
                    scores.select(pl.col("reasons").alias("reasons_text"), "model_version"),
                ],
                how="horizontal",
            ).with_columns(
                ((pl.col("risk_band") != "low") & (pl.col("reasons") == "[]")).alias(WAITING)
            )
            yield from to_arrow(rows.select(list(out_schema))).to_batches()

    return run


def score_file_function(
    models_of: Callable[[], LoadedModels], schema: Schema, out: Schema
) -> BatchFunction:
    """Per row: the score file (contract section 5), reasons for the medium and high bands."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        models = models_of()
        for batch in batches:
            frame = from_arrow(batch, schema)
            scored = score_frame(models, frame, choose=listed, threads=1)
            table = score_table(frame, models, scored)
            yield from to_arrow(table.cast(dict(out))).to_batches()  # type: ignore[arg-type]

    return run


def broadcast_models(features: DataFrame, models: LoadedModels) -> Callable[[], LoadedModels]:
    """The models sent to each executor once (not read from MLflow there): an accessor for
    the functions that run there."""
    shared = features.sparkSession.sparkContext.broadcast(models)
    return lambda: shared.value


def score_file(features: DataFrame, schema: Schema, models: LoadedModels) -> DataFrame:
    """The score file's rows, computed on the executors."""
    out = score_file_schema(schema)
    return features.mapInArrow(
        score_file_function(broadcast_models(features, models), schema, out), spark_schema(out)
    )


def chosen_rows(
    features: DataFrame,
    schema: Schema,
    models_of: Callable[[], LoadedModels],
    read: Callable[[int, int], int],
) -> DataFrame:
    """(case_id) of the rows the list explains: ``read(rows, high)`` from its top."""
    from pyspark.sql import functions as sf

    order = features.mapInArrow(
        probability_function(models_of, schema),
        spark_schema(PROBABILITY_SCHEMA),
    ).persist()
    counts = order.agg(
        sf.count("*").alias("rows"), sf.sum((sf.col("risk_band") == "high").cast("long"))
    ).first()
    assert counts is not None
    wanted = read(int(counts[0]), int(counts[1] or 0))
    # serving.day_scores.reading_order's keys, as one sort on the cluster.
    top = order.orderBy(
        sf.col("band_order").asc(), sf.col("urgency").desc(), sf.col("case_id").asc()
    ).limit(wanted)
    return top.select("case_id", sf.lit(True).alias(CHOSEN))


def list_scores(
    features: DataFrame, schema: Schema, models_of: Callable[[], LoadedModels], chosen: DataFrame
) -> DataFrame:
    """Every row's list and score-file columns, the chosen rows explained."""
    from pyspark.sql import functions as sf

    marked = features.join(sf.broadcast(chosen), on="case_id", how="left")
    return marked.mapInArrow(
        list_function(models_of, schema),
        spark_schema(row_schema(schema)),
    )
