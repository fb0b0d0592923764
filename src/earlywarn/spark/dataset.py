"""A contract dataset as Spark reads it: Parquet tables on a path the cluster can read.

The cluster path reads a dataset that has passed the contract's checks once (the
output of ``earlywarn ingest``, or tables an ETL job wrote to the contract's
columns): it checks that the files and columns are there and says which is missing (every
part's columns: a part without one is named, not read as empty), that the cases and
contacts have rows, that no key is repeated and no required value empty (one
aggregation per table),
and reads moments stored with a zone as office time, but does not repeat the row
checks, which would need every row on one machine.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl
import yaml

from earlywarn.contract.calendar_file import CalendarError, calendar_content
from earlywarn.contract.calendar_read import CALENDAR_FILE
from earlywarn.contract.loader import typed_table
from earlywarn.contract.spec import MOMENTS, OFFICE_TIME_ZONE, TABLES, Column, Kind

if TYPE_CHECKING:
    from pyspark.sql import Column as Column_
    from pyspark.sql import DataFrame, SparkSession

logger = logging.getLogger(__name__)

# The columns features read (free text such as a case's summary stays behind).
COLUMNS = {
    "cases": ["case_id", "petitioner_id", "registered_at", "county_code", "township_code",
              "category", "nature", "responsible_unit"],
    "contacts": ["contact_id", "case_id", "occurred_at", "channel", "level", "group_size"],
    "actions": ["action_id", "case_id", "occurred_at", "action_type", "unit", "outcome"],
}  # fmt: skip


KEYS = {"cases": "case_id", "contacts": "contact_id", "actions": "action_id"}
NEEDS_ROWS = ("cases", "contacts")  # as the embedded loader: an empty one is an error


class SparkDatasetError(ValueError):
    """A table or column the cluster path needs is missing; the message names it."""


@dataclass(frozen=True)
class SparkDataset:
    path: str
    session: SparkSession
    cases: DataFrame
    contacts: DataFrame
    actions: DataFrame | None
    calendar: dict[str, Any] | None

    def empty_rows(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame | None]:
        """No rows, typed as the contract types them: to find the stages' output schemas."""
        tables = {
            name: typed_table(name, pl.DataFrame(schema=dict.fromkeys(columns, pl.String)), columns)
            for name, columns in COLUMNS.items()
        }
        return (
            tables["cases"],
            tables["contacts"],
            None if self.actions is None else tables["actions"],
        )


def _read_table(session: SparkSession, root: str, name: str, required: bool) -> DataFrame | None:
    from pyspark.errors import PySparkException

    location = f"{root}/{name}.parquet"
    try:
        # Every part's schema, merged: by default Spark takes one part's, and a part
        # written without a column read as nulls in it without a word.
        frame = session.read.option("mergeSchema", "true").parquet(location)
    except PySparkException as error:
        if not required and "PATH_NOT_FOUND" in str(error):
            return None
        first = str(error).strip().splitlines()[0]
        raise SparkDatasetError(f"{location}: cannot be read as Parquet ({first})") from error
    missing = [c for c in COLUMNS[name] if c not in frame.columns]
    if missing:
        raise SparkDatasetError(f"{location}: missing column(s) {', '.join(missing)}")
    frame = _office_time(frame.select(*COLUMNS[name]), MOMENTS[name], location)
    _check_keys(location, name, frame)
    return _open_codes(frame, name)


def _open_codes(frame: DataFrame, name: str) -> DataFrame:
    """A code of an open list the contract does not know (a province's own category) read
    as the list's fallback (``other``), as the embedded loader reads it: cast to the
    contract's codes in the executors, it stopped the job with 558 lines of traces."""
    from pyspark.sql import functions as sf

    table = next(t for t in TABLES if t.name == name)
    for column in (table.column(c) for c in COLUMNS[name]):
        if column.kind is Kind.ENUM and column.fallback is not None:
            value = sf.col(column.name)
            known = value.isNull() | value.cast("string").isin(*column.values)
            frame = frame.withColumn(
                column.name, sf.when(known, value).otherwise(sf.lit(column.fallback))
            )
    return frame


def _office_time(frame: DataFrame, column: str, location: str) -> DataFrame:
    """A moment stored with its zone (a Parquet timestamp adjusted to UTC) read as the
    office's wall clock, as the embedded loader reads it; a naive one already is (the
    session's zone is UTC, so nothing shifts it). Moments an ETL job wrote as ISO text
    are read the same way (with an offset: that instant in office time; without: the
    wall clock as written); text that is no moment is refused, naming the column."""
    from pyspark.sql import functions as sf
    from pyspark.sql.types import StringType, TimestampType

    kind = frame.schema[column].dataType
    if isinstance(kind, StringType):
        text = sf.trim(sf.col(column))
        parsed = sf.try_to_timestamp(text)
        zoned = text.rlike(r"(Z|[+-]\d{2}:?\d{2})$")
        moment = sf.when(zoned, sf.from_utc_timestamp(parsed, OFFICE_TIME_ZONE)).otherwise(parsed)
        frame = frame.withColumn(f"_{column}_text", text).withColumn(
            column, moment.cast("timestamp_ntz")
        )
        unread = frame.where(sf.col(column).isNull() & sf.col(f"_{column}_text").isNotNull())
        example = unread.select(f"_{column}_text").first()
        if example is not None:
            raise SparkDatasetError(
                f"{location}: {column} holds text that is no moment, e.g. {example[0]!r}; "
                "write ISO 8601 (2025-03-04T09:30:00, with or without an offset) or Parquet "
                "timestamps (时间格式无法识别)"
            )
        return frame.drop(f"_{column}_text")
    if not isinstance(kind, TimestampType):
        return frame
    office = sf.from_utc_timestamp(column, OFFICE_TIME_ZONE).cast("timestamp_ntz")
    return frame.withColumn(column, office)


def _check_keys(location: str, name: str, frame: DataFrame) -> None:
    """The rows the cluster path relies on without re-checking each: a table that must
    have rows has some, no key is repeated (the embedded loader quarantines a repeat; a
    repeated case id made the cluster's per-case groups run without end), no required
    value is empty and no code or count is outside the contract (one stopped the job
    with 380 lines of Java and Python traces). One pass."""
    from pyspark.sql import functions as sf

    key = KEYS[name]
    table = next(t for t in TABLES if t.name == name)
    read = [table.column(c) for c in COLUMNS[name]]
    needed = [c.name for c in read if c.required]
    tests = {c.name: _outside(c) for c in read}
    outside = {column: test for column, test in tests.items() if test is not None}
    unknown = {
        c.name: sf.col(c.name).isNotNull() & ~sf.col(c.name).cast("string").isin(*c.values)
        for c in read
        if c.kind is Kind.ENUM and c.fallback is not None
    }
    counted = frame.agg(
        sf.count(sf.lit(1)).alias("rows"),
        sf.count(key).alias("keyed"),
        sf.countDistinct(key).alias("distinct"),
        *(sf.count(column).alias(f"filled {column}") for column in needed),
        *(sf.count_if(test).alias(f"outside {column}") for column, test in outside.items()),
        *(sf.count_if(test).alias(f"unknown {column}") for column, test in unknown.items()),
    ).first()
    assert counted is not None
    for column in unknown:
        if counted[f"unknown {column}"]:
            fallback = table.column(column).fallback
            logger.warning("%s: %d value(s) of %s the contract does not know, read as %s "
                           "(未知代码按 %s 处理)", location, counted[f"unknown {column}"], column,
                           fallback, fallback)  # fmt: skip
    if name in NEEDS_ROWS and counted["rows"] == 0:
        raise SparkDatasetError(f"{location}: no rows (the table is empty)")
    for column in needed:
        empty = counted["rows"] - counted[f"filled {column}"]
        if empty:
            raise SparkDatasetError(
                f"{location}: {column} is empty in {empty:,} of {counted['rows']:,} rows, and "
                "the contract requires it (a part written without the column?); `earlywarn "
                "validate` names every row"
            )
    for column, test in outside.items():
        if counted[f"outside {column}"]:
            example = frame.where(test).select(column).first()
            assert example is not None
            allowed = table.column(column).values
            rule = f"allowed: {', '.join(allowed)}" if allowed else "a whole number of 1 or more"
            raise SparkDatasetError(
                f"{location}: {column} holds {counted[f'outside {column}']:,} value(s) outside "
                f"the contract, e.g. {str(example[0])!r} ({rule}); "
                "`earlywarn validate` names every row, `earlywarn import` quarantines them"
            )
    if counted["keyed"] != counted["distinct"]:
        repeated = frame.groupBy(key).count().where(sf.col("count") > 1).first()
        assert repeated is not None
        raise SparkDatasetError(
            f"{location}: {key} {repeated[key]!r} appears {repeated['count']} times "
            f"({counted['keyed'] - counted['distinct']:,} repeated rows in all): a key must "
            f"be unique; `earlywarn validate` names every repeat and `earlywarn import` "
            f"quarantines them"
        )


def _outside(column: Column) -> Column_ | None:
    """Where a value is outside the contract: a code of a closed list (an open one reads
    unknown codes as its fallback, as the embedded loader does), a count below 1."""
    from pyspark.sql import functions as sf

    value = sf.col(column.name)
    if column.kind is Kind.ENUM and column.fallback is None:
        return value.isNotNull() & ~value.cast("string").isin(*column.values)
    if column.kind is Kind.POSITIVE_INT:
        return value.isNotNull() & (value.cast("double") < 1)
    return None


def _read_calendar(session: SparkSession, root: str) -> dict[str, Any] | None:
    from pyspark.errors import AnalysisException

    location = f"{root}/{CALENDAR_FILE}"
    try:
        rows = session.read.text(location, wholetext=True).collect()
    except AnalysisException:
        return None  # no calendar of the dataset's own: the default periods apply
    try:
        return calendar_content(yaml.safe_load(rows[0][0]) if rows else None)
    except (CalendarError, yaml.YAMLError) as error:
        raise SparkDatasetError(f"{location}: {error}") from error


def read_dataset(session: SparkSession, path: str) -> SparkDataset:
    """cases.parquet, contacts.parquet, optionally actions.parquet and calendar.yaml under
    ``path`` (a local folder, or an hdfs://, s3a://... URL the cluster is configured for)."""
    root = path.rstrip("/")
    cases = _read_table(session, root, "cases", required=True)
    contacts = _read_table(session, root, "contacts", required=True)
    assert cases is not None and contacts is not None
    actions = _read_table(session, root, "actions", required=False)
    return SparkDataset(root, session, cases, contacts, actions, _read_calendar(session, root))
