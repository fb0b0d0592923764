"""Polars frames in and out of Spark through Arrow, with the types each side expects.

Spark has no enums and no unsigned integers, and wants plain (not large) strings;
what goes out is lowered to those, and what comes back is cast to the Polars schema
that the embedded path would have produced, so the same code sees the same types.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa

if TYPE_CHECKING:
    from pyspark.sql import DataFrame
    from pyspark.sql.types import StructType

_WIDER: dict[Any, Any] = {
    pl.UInt8: pl.Int16,
    pl.UInt16: pl.Int32,
    pl.UInt32: pl.Int64,
    pl.UInt64: pl.Int64,
}
Schema = Mapping[str, Any]  # column -> Polars dtype (a class or an instance)


def _arrow_type(dtype: pa.DataType) -> pa.DataType:
    if pa.types.is_large_string(dtype) or pa.types.is_string_view(dtype):
        return pa.string()
    if pa.types.is_dictionary(dtype):
        return pa.string()
    return dtype


def lowered(frame: pl.DataFrame) -> pl.DataFrame:
    """Enums and categoricals as strings, unsigned integers as wider signed ones."""
    casts: dict[str, Any] = {}
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Enum | pl.Categorical):
            casts[name] = pl.String
        elif dtype.base_type() in _WIDER:
            casts[name] = _WIDER[dtype.base_type()]
    return frame.cast(casts) if casts else frame  # type: ignore[arg-type]


def to_arrow(frame: pl.DataFrame) -> pa.Table:
    """A frame as Spark's Arrow expects it."""
    table = lowered(frame).to_arrow()
    schema = pa.schema([pa.field(f.name, _arrow_type(f.type)) for f in table.schema])
    return table.cast(schema)


def spark_schema(schema: Schema) -> StructType:
    """The Spark schema of frames with this Polars schema, once lowered."""
    from pyspark.sql.pandas.types import from_arrow_schema

    empty = pl.DataFrame(schema=dict(schema))
    return from_arrow_schema(to_arrow(empty).schema)


def from_arrow(table: pa.Table | pa.RecordBatch, schema: Schema) -> pl.DataFrame:
    """Rows from Spark typed as ``schema`` says (its columns, in its order)."""
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame.select(pl.col(name).cast(dtype) for name, dtype in schema.items())


def collect(frame: DataFrame, schema: Schema) -> pl.DataFrame:
    """A Spark DataFrame's rows on the driver, typed as ``schema``."""
    return from_arrow(frame.toArrow(), schema)
