"""The feature catalogue on Spark, computed by the embedded path's own Polars code.

Three stages, each handing whole groups of rows to ``earlywarn.features`` through Arrow:

1. **The case part**, grouped by a hash of case_id: each group holds every case row,
   contact and step of its cases, so ``case_part`` (the case's own counts, clocks and
   calendar) and ``context_events`` (the events the context counts) are exact there.
2. **The context**, one pass per family (petitioner, township, county, unit), grouped
   by a hash of the family's key: each group holds every event of its keys and every
   (case, as-of) pair that reads them, so ``running_totals`` and ``family_lookup`` are
   exact there. Spark's shuffle brings a key's events together wherever their cases were.
3. **The assembly**, row by row: ``combine_context`` and ``in_catalogue_order``.

No feature is written twice: the parity test holds the result to ``build_features``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa

from earlywarn.contract.loader import typed_table
from earlywarn.features.build import STATIC, case_part, in_catalogue_order
from earlywarn.features.context import (
    FAMILIES,
    LOOKED_UP,
    LOOKUPS,
    OWN,
    combine_context,
    family_lookup,
    keyed_pairs,
    running_totals,
)
from earlywarn.features.context_events import FAMILY_COUNTS, FAMILY_KEYS, context_events
from earlywarn.features.events import KEYS
from earlywarn.features.labels import scoring_populations
from earlywarn.features.sensitive import CalendarIndex
from earlywarn.spark.dataset import COLUMNS, SparkDataset
from earlywarn.spark.frames import Schema, from_arrow, spark_schema, to_arrow

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

ArrowGroupFunction = Callable[[pa.Table, pa.Table], pa.Table]
_TABLE = "_table"  # which table an event row came from, in the stage-1 union
_BUCKET = "_bucket"
_PAIR_COLUMNS = [*KEYS, "petitioner_id", "township_code", "county_code", "category",
                 "responsible_unit"]  # fmt: skip
# Stage 2 groups each family by a hash of its key's first column: a coarser grouping
# than the key (a township's families), so every key still lies inside one group.
_PAIR_KEY = {"petitioner": "petitioner_id", "township": "township_code",
             "county": "county_code", "unit": "responsible_unit"}  # fmt: skip
_EVENT_KEY = {family: keys[0] for family, keys in FAMILY_KEYS.items()}


def _typed_rows(
    cases: pa.Table, events: pa.Table
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame | None, bool]:
    """A group's cases, contacts and steps, typed as the contract types them."""
    frame = pl.from_arrow(events)
    assert isinstance(frame, pl.DataFrame)
    has_actions = "action_type" in frame.columns
    contacts = frame.filter(pl.col(_TABLE) == "contacts")
    actions = frame.filter(pl.col(_TABLE) == "actions") if has_actions else None
    case_frame = pl.from_arrow(cases)
    assert isinstance(case_frame, pl.DataFrame)
    return (
        typed_table("cases", case_frame, COLUMNS["cases"]),
        typed_table("contacts", contacts, COLUMNS["contacts"]),
        None if actions is None else typed_table("actions", actions, COLUMNS["actions"]),
        has_actions,
    )


def _case_pairs(
    cases: pl.DataFrame,
    contacts: pl.DataFrame,
    actions: pl.DataFrame | None,
    as_ofs: Sequence[dt.datetime],
    given: bool,
) -> pl.DataFrame:
    """(case_id, as_of) with the static columns: the scoring population, or every case
    of the group at the one moment asked (``given``: pairs chosen by the caller)."""
    if given:
        pairs = cases.select("case_id").with_columns(
            pl.lit(as_ofs[0], dtype=pl.Datetime("us")).alias("as_of")
        )
    else:
        pairs = scoring_populations(cases, contacts, actions, as_ofs)
    return pairs.select(KEYS).join(
        cases.select("case_id", *STATIC), on="case_id", how="left", maintain_order="left"
    )


def _event_frame(events: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """The families' events in one frame (their own columns, a ``family_kind`` tag)."""
    return pl.concat(
        [frame.with_columns(pl.lit(kind).alias("family_kind")) for kind, frame in events.items()],
        how="diagonal_relaxed",
    )


class _Stages:
    """The functions Spark ships to executors, with what they close over (the moments,
    the calendar index) and the output schemas, found by running them on no rows."""

    def __init__(
        self,
        data: SparkDataset,
        as_ofs: Sequence[dt.datetime],
        given: bool,
        calendar_from: dt.datetime,
    ) -> None:
        self.as_ofs, self.given = list(as_ofs), given
        self.calendar = CalendarIndex.build(calendar_from.date(), max(as_ofs).date(), data.calendar)
        self.has_actions = data.actions is not None
        own, events = self._case_stage(*data.empty_rows())
        self.own_schema = own.schema
        self.event_schema = _event_frame(events).schema
        self.features_schema = in_catalogue_order(own, self._context(own, own)).schema

    def _case_stage(
        self, cases: pl.DataFrame, contacts: pl.DataFrame, actions: pl.DataFrame | None
    ) -> tuple[pl.DataFrame, dict[str, pl.DataFrame]]:
        pairs = _case_pairs(cases, contacts, actions, self.as_ofs, self.given)
        own = case_part(pairs, contacts, actions, self.calendar)
        return own, context_events(cases, contacts, actions)

    @staticmethod
    def _context(own: pl.DataFrame, looked_up: pl.DataFrame) -> pl.DataFrame:
        parts = [looked_up.select(*KEYS, *LOOKED_UP)] if LOOKED_UP[0] in looked_up.columns else []
        if not parts:  # the schema run: every looked-up total 0
            parts = [own.select(KEYS).with_columns(pl.lit(0, pl.Int64).alias(n) for n in LOOKED_UP)]
        return combine_context(own.select(KEYS), own.select(*KEYS, *OWN), parts)

    def case_function(self) -> ArrowGroupFunction:
        def run(cases: pa.Table, events: pa.Table) -> pa.Table:
            case_frame, contacts, actions, _ = _typed_rows(cases, events)
            own, _ = self._case_stage(case_frame, contacts, actions)
            return to_arrow(own)

        return run

    def event_function(self) -> ArrowGroupFunction:
        def run(cases: pa.Table, events: pa.Table) -> pa.Table:
            case_frame, contacts, actions, _ = _typed_rows(cases, events)
            found = _event_frame(context_events(case_frame, contacts, actions))
            return to_arrow(found.select(pl.col(n).cast(t) for n, t in self.event_schema.items()))

        return run

    def lookup_function(self, family: str) -> ArrowGroupFunction:
        own_schema = {n: self.own_schema[n] for n in _PAIR_COLUMNS}
        key, counts = FAMILY_KEYS[family], FAMILY_COUNTS[family]
        event_schema = {n: self.event_schema[n] for n in [*key, "at", *counts]}

        def run(pairs: pa.Table, events: pa.Table) -> pa.Table:
            keyed = keyed_pairs(from_arrow(pairs, own_schema))
            totals = running_totals(from_arrow(events, event_schema), family)
            return to_arrow(family_lookup(keyed, totals, family))

        return run

    def assembly_function(self) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
        looked_up_schema: Schema = dict.fromkeys(LOOKED_UP, pl.Int64)

        def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            for batch in batches:
                own = from_arrow(batch, self.own_schema)
                looked_up = pl.concat(
                    [own.select(KEYS), from_arrow(batch, looked_up_schema)], how="horizontal"
                )
                features = in_catalogue_order(own, self._context(own, looked_up))
                yield from to_arrow(features).to_batches()

        return run


def _lookup_names(family: str) -> list[str]:
    return [f"{prefix}_{c}" for _, counts, prefix in LOOKUPS[family] for c in counts]


def spark_features(
    data: SparkDataset,
    as_ofs: Sequence[dt.datetime],
    partitions: int,
    cases: Sequence[str] | None = None,
    calendar_from: dt.datetime | None = None,
) -> tuple[DataFrame, dict[str, Any]]:
    """Features of the scoring population at each moment of ``as_ofs`` (or of the given
    ``cases`` at the one moment), as a Spark DataFrame, with the Polars schema that
    ``build_features`` gives the same rows (to restore the types once collected).
    ``partitions``: how many groups each stage hands out; ``calendar_from``: the first
    day the calendar index covers (default: the first moment)."""
    from pyspark.sql import functions as sf

    given = cases is not None
    # The joins between the stages shuffle into as many partitions as the stages' groups.
    data.session.conf.set("spark.sql.shuffle.partitions", str(partitions))
    stages = _Stages(data, as_ofs, given, calendar_from or min(as_ofs))

    def bucket(frame: DataFrame, column: str) -> DataFrame:
        return frame.withColumn(_BUCKET, sf.pmod(sf.xxhash64(column), sf.lit(partitions)))

    case_rows = data.cases
    if given:
        wanted = data.session.createDataFrame([(c,) for c in cases or []], "case_id string")
        case_rows = case_rows.join(sf.broadcast(wanted), on="case_id", how="left_semi")
    events = data.contacts.withColumn(_TABLE, sf.lit("contacts"))
    if data.actions is not None:
        events = events.unionByName(
            data.actions.withColumn(_TABLE, sf.lit("actions")), allowMissingColumns=True
        )
    if given:
        events = events.join(case_rows.select("case_id"), on="case_id", how="left_semi")
    grouped_cases = bucket(case_rows, "case_id").groupBy(_BUCKET)
    grouped_events = bucket(events, "case_id").groupBy(_BUCKET)
    own = (
        grouped_cases.cogroup(grouped_events)
        .applyInArrow(stages.case_function(), spark_schema(stages.own_schema))
        .persist()
    )
    # The context counts the events of every case, not only the population's.
    all_cases = bucket(data.cases, "case_id").groupBy(_BUCKET)
    all_events = data.contacts.withColumn(_TABLE, sf.lit("contacts"))
    if data.actions is not None:
        all_events = all_events.unionByName(
            data.actions.withColumn(_TABLE, sf.lit("actions")), allowMissingColumns=True
        )
    context_rows = (
        all_cases.cogroup(bucket(all_events, "case_id").groupBy(_BUCKET))
        .applyInArrow(stages.event_function(), spark_schema(stages.event_schema))
        .persist()
    )
    joined = own
    pairs = own.select(*_PAIR_COLUMNS)
    for family in FAMILIES:
        family_events = context_rows.filter(sf.col("family_kind") == family)
        lookup_schema: Schema = {
            "case_id": pl.String,
            "as_of": pl.Datetime("us"),
            **dict.fromkeys(_lookup_names(family), pl.Int64),
        }
        looked_up = (
            bucket(pairs, _PAIR_KEY[family])
            .groupBy(_BUCKET)
            .cogroup(bucket(family_events, _EVENT_KEY[family]).groupBy(_BUCKET))
            .applyInArrow(stages.lookup_function(family), spark_schema(lookup_schema))
        )
        joined = joined.join(looked_up, on=KEYS, how="left")
    features = joined.mapInArrow(stages.assembly_function(), spark_schema(stages.features_schema))
    return features, dict(stages.features_schema)
