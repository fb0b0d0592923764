"""A contract dataset as Spark reads it: Parquet tables on a path the cluster can read.

The cluster path reads a dataset that has passed the contract's checks once (the
output of ``earlywarn ingest``, or tables an ETL job wrote to the contract's
columns): it checks that the files and columns are there and says which is missing,
but does not repeat the row checks, which would need every row on one machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl
import yaml

from earlywarn.contract.calendar_file import CalendarError, calendar_content
from earlywarn.contract.calendar_read import CALENDAR_FILE
from earlywarn.contract.loader import typed_table

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# The columns features read (free text such as a case's summary stays behind).
COLUMNS = {
    "cases": ["case_id", "petitioner_id", "registered_at", "county_code", "township_code",
              "category", "nature", "responsible_unit"],
    "contacts": ["contact_id", "case_id", "occurred_at", "channel", "level", "group_size"],
    "actions": ["action_id", "case_id", "occurred_at", "action_type", "unit", "outcome"],
}  # fmt: skip


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
    from pyspark.errors import AnalysisException

    location = f"{root}/{name}.parquet"
    try:
        frame = session.read.parquet(location)
    except AnalysisException as error:
        if not required and "PATH_NOT_FOUND" in str(error):
            return None
        raise SparkDatasetError(f"{location}: cannot be read as Parquet ({error})") from error
    missing = [c for c in COLUMNS[name] if c not in frame.columns]
    if missing:
        raise SparkDatasetError(f"{location}: missing column(s) {', '.join(missing)}")
    return frame.select(*COLUMNS[name])


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
