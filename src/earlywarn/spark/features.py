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
    from pyspark.sql.group import GroupedData

ArrowGroupFunction = Callable[[pa.Table, pa.Table], pa.Table]
_TABLE = "_table"  # which table an event row came from, in the stage-1 union
_BUCKET = "_bucket"
# Stage 1's context events, narrow: the family, its key (two columns at most), the
# moment and up to six counts (``FAMILY_COUNTS`` in order; missing ones null).
EVENT_SCHEMA: Schema = {
    "family_kind": pl.String,
    "key": pl.String,
    "sub": pl.String,
    "at": pl.Datetime("us"),
    **{f"c{i}": pl.Int64 for i in range(max(len(c) for c in FAMILY_COUNTS.values()))},
}
_PAIR_COLUMNS = [*KEYS, "petitioner_id", "township_code", "county_code", "category",
                 "responsible_unit"]  # fmt: skip
# Stage 2 groups each family by a hash of its key's first column: a coarser grouping
# than the key (a township's families), so every key still lies inside one group.
_PAIR_KEY = {"petitioner": "petitioner_id", "township": "township_code",
             "county": "county_code", "unit": "responsible_unit"}  # fmt: skip


def typed_rows(
    cases: pa.Table, events: pa.Table, has_actions: bool
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame | None, pl.DataFrame]:
    """A group's cases, contacts and steps typed as the contract types them, and the
    (case_id, as_of) pairs asked for, if any."""
    frame = pl.from_arrow(events)
    case_frame = pl.from_arrow(cases)
    assert isinstance(frame, pl.DataFrame) and isinstance(case_frame, pl.DataFrame)

    def rows(table: str) -> pl.DataFrame:
        return frame.filter(pl.col(_TABLE) == table)

    return (
        typed_table("cases", case_frame, COLUMNS["cases"]),
        typed_table("contacts", rows("contacts"), COLUMNS["contacts"]),
        typed_table("actions", rows("actions"), COLUMNS["actions"]) if has_actions else None,
        rows("pairs").select("case_id", pl.col("as_of").cast(pl.Datetime("us")))
        if "as_of" in frame.columns
        else pl.DataFrame(schema={"case_id": pl.String, "as_of": pl.Datetime("us")}),
    )


def _case_pairs(
    cases: pl.DataFrame,
    contacts: pl.DataFrame,
    actions: pl.DataFrame | None,
    as_ofs: Sequence[dt.datetime],
    given: pl.DataFrame | None,
) -> pl.DataFrame:
    """(case_id, as_of) with the static columns: the scoring population at ``as_ofs``, or
    the ``given`` pairs (chosen by the caller: training's sample, a list's earlier day)."""
    pairs = scoring_populations(cases, contacts, actions, as_ofs) if given is None else given
    return pairs.select(KEYS).join(
        cases.select("case_id", *STATIC), on="case_id", how="left", maintain_order="left"
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
        cases, contacts, actions = data.empty_rows()
        pairs = pl.DataFrame(schema={"case_id": pl.String, "as_of": pl.Datetime("us")})
        own = self._own(cases, contacts, actions, pairs)
        self.own_schema = own.schema
        self.features_schema = in_catalogue_order(own, self._context(own, own)).schema

    def _own(
        self,
        cases: pl.DataFrame,
        contacts: pl.DataFrame,
        actions: pl.DataFrame | None,
        pairs: pl.DataFrame,
    ) -> pl.DataFrame:
        given = pairs if self.given else None
        found = _case_pairs(cases, contacts, actions, self.as_ofs, given)
        return case_part(found, contacts, actions, self.calendar)

    @staticmethod
    def _context(own: pl.DataFrame, looked_up: pl.DataFrame) -> pl.DataFrame:
        parts = [looked_up.select(*KEYS, *LOOKED_UP)] if LOOKED_UP[0] in looked_up.columns else []
        if not parts:  # the schema run: every looked-up total 0
            parts = [own.select(KEYS).with_columns(pl.lit(0, pl.Int64).alias(n) for n in LOOKED_UP)]
        return combine_context(own.select(KEYS), own.select(*KEYS, *OWN), parts)

    def case_function(self) -> ArrowGroupFunction:
        """Stage 1: the case part of the scoring population (or of the pairs asked for)."""

        def run(cases: pa.Table, events: pa.Table) -> pa.Table:
            case_frame, contacts, actions, pairs = typed_rows(cases, events, self.has_actions)
            return to_arrow(self._own(case_frame, contacts, actions, pairs))

        return run

    def event_function(self) -> ArrowGroupFunction:
        """Stage 1, beside it: every case's context events, in ``EVENT_SCHEMA``."""

        def run(cases: pa.Table, events: pa.Table) -> pa.Table:
            case_frame, contacts, actions, _ = typed_rows(cases, events, self.has_actions)
            return to_arrow(_generic_events(context_events(case_frame, contacts, actions)))

        return run

    def lookup_function(self, family: str) -> ArrowGroupFunction:
        own_schema = {n: self.own_schema[n] for n in _PAIR_COLUMNS}
        key, counts = FAMILY_KEYS[family], FAMILY_COUNTS[family]
        names = {"key": key[0], "sub": key[-1], **{f"c{i}": c for i, c in enumerate(counts)}}

        def run(pairs: pa.Table, events: pa.Table) -> pa.Table:
            keyed = keyed_pairs(from_arrow(pairs, own_schema))
            found = from_arrow(events, EVENT_SCHEMA).select(
                *(pl.col(g).alias(n) for g, n in names.items() if g != "sub" or len(key) > 1),
                "at",
            )
            totals = running_totals(found.select(*key, "at", *counts), family)
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


def _generic_events(events: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """The families' events in one narrow frame (``EVENT_SCHEMA``): the key's columns as
    ``key`` and ``sub``, the counts as ``c0``... in ``FAMILY_COUNTS`` order."""
    parts = []
    for family, frame in events.items():
        key, counts = FAMILY_KEYS[family], FAMILY_COUNTS[family]
        parts.append(
            frame.select(
                pl.lit(family).alias("family_kind"),
                pl.col(key[0]).cast(pl.String).alias("key"),
                (pl.col(key[1]) if len(key) > 1 else pl.lit(None)).cast(pl.String).alias("sub"),
                pl.col("at").cast(pl.Datetime("us")),
                *(pl.col(c).cast(pl.Int64).alias(f"c{i}") for i, c in enumerate(counts)),
            )
        )
    # The petitioner's six counts are the most: every column of EVENT_SCHEMA is there.
    return pl.concat(parts, how="diagonal").select(
        pl.col(n).cast(t) for n, t in EVENT_SCHEMA.items()
    )


def _lookup_names(family: str) -> list[str]:
    return [f"{prefix}_{c}" for _, counts, prefix in LOOKUPS[family] for c in counts]


def _bucket(frame: DataFrame, column: str, partitions: int) -> DataFrame:
    from pyspark.sql import functions as sf

    return frame.withColumn(_BUCKET, sf.pmod(sf.xxhash64(column), sf.lit(partitions)))


def case_groups(
    data: SparkDataset, partitions: int, pairs: DataFrame | None = None
) -> tuple[GroupedData, GroupedData]:
    """The cases, and their contacts, steps and asked-for pairs (one frame, tagged by
    table), grouped by a hash of the case id: each group holds every row of its cases."""
    from pyspark.sql import functions as sf

    events = data.contacts.withColumn(_TABLE, sf.lit("contacts"))
    if data.actions is not None:
        events = events.unionByName(
            data.actions.withColumn(_TABLE, sf.lit("actions")), allowMissingColumns=True
        )
    if pairs is not None:
        asked = pairs.select("case_id", "as_of").withColumn(_TABLE, sf.lit("pairs"))
        events = events.unionByName(asked, allowMissingColumns=True)
    return (
        _bucket(data.cases, "case_id", partitions).groupBy(_BUCKET),
        _bucket(events, "case_id", partitions).groupBy(_BUCKET),
    )


def spark_features(
    data: SparkDataset,
    as_ofs: Sequence[dt.datetime],
    partitions: int,
    pairs: DataFrame | None = None,
    calendar_from: dt.datetime | None = None,
) -> tuple[DataFrame, dict[str, Any]]:
    """Features of the scoring population at each moment of ``as_ofs`` (or of the given
    ``pairs``: a Spark DataFrame of case_id and as_of, its moments among ``as_ofs``), as a
    Spark DataFrame, with the Polars schema that ``build_features`` gives the same rows
    (to restore the types once collected). ``partitions``: how many groups each stage
    hands out; ``calendar_from``: the first day the calendar index covers (default: the
    first moment)."""
    from pyspark.sql import functions as sf

    # The joins between the stages shuffle into as many partitions as the stages' groups.
    data.session.conf.set("spark.sql.shuffle.partitions", str(partitions))
    stages = _Stages(data, as_ofs, pairs is not None, calendar_from or min(as_ofs))

    def bucket(frame: DataFrame, column: str) -> DataFrame:
        return _bucket(frame, column, partitions)

    # The case part for the population (or the pairs asked for); every case's events,
    # for the context. Two passes: one frame of both would carry a column per feature
    # on every event row.
    grouped_cases, grouped_events = case_groups(data, partitions, pairs)
    own = grouped_cases.cogroup(grouped_events).applyInArrow(
        stages.case_function(), spark_schema(stages.own_schema)
    )
    grouped_cases, grouped_events = case_groups(data, partitions)
    context_rows = (
        grouped_cases.cogroup(grouped_events)
        .applyInArrow(stages.event_function(), spark_schema(EVENT_SCHEMA))
        .persist()
    )
    own = own.persist()
    joined = own
    for family in FAMILIES:
        family_events = context_rows.filter(sf.col("family_kind") == family)
        lookup_schema: Schema = {
            "case_id": pl.String,
            "as_of": pl.Datetime("us"),
            **dict.fromkeys(_lookup_names(family), pl.Int64),
        }
        looked_up = (
            bucket(own.select(*_PAIR_COLUMNS), _PAIR_KEY[family])
            .groupBy(_BUCKET)
            .cogroup(bucket(family_events, "key").groupBy(_BUCKET))
            .applyInArrow(stages.lookup_function(family), spark_schema(lookup_schema))
        )
        joined = joined.join(looked_up, on=KEYS, how="left")
    features = joined.mapInArrow(stages.assembly_function(), spark_schema(stages.features_schema))
    return features, dict(stages.features_schema)
