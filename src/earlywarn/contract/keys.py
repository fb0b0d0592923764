"""A table's keys: each must be unique; a repeat is named with the line of its first."""

from __future__ import annotations

import polars as pl

from earlywarn.contract.checks import problem_column
from earlywarn.contract.csv_lines import LINE
from earlywarn.contract.report import Severity, empty_issues
from earlywarn.contract.spec import Table


def duplicate_keys(table: Table, file: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Every repeat of a key after its first row, naming the line of the first."""
    key = pl.col(table.key)
    usable = pl.col(problem_column(table.key)).is_null()
    # Fast path: distinct 64-bit hashes prove distinct keys (a collision only
    # sends us down the exact path below).
    hashes = frame.select(pl.when(usable).then(key.hash())).to_series().drop_nulls()
    if hashes.n_unique() == hashes.len():
        return empty_issues()
    repeats = frame.filter(usable & ~key.is_first_distinct())
    if not repeats.height:
        return empty_issues()
    first = (
        frame.filter(usable & key.is_in(repeats.get_column(table.key).implode()))
        .group_by(table.key)
        .agg(pl.col(LINE).min().alias("first_line"))
    )
    return (
        repeats.join(first, on=table.key)
        .select(
            pl.lit(Severity.ERROR.value).alias("severity"),
            pl.lit(file).alias("file"),
            pl.col(LINE).alias("line"),
            pl.lit(table.key).alias("column"),
            pl.lit("duplicate_key").alias("code"),
            pl.format("'{}' first on line {}", key, pl.col("first_line")).alias("detail"),
            pl.lit(1, dtype=pl.Int64).alias("count"),
        )
        .sort("line")
    )
