"""A table written in parts: ``cases.parquet/`` as a directory of Parquet files, the way
Spark, Hive, DuckDB and pyarrow write a table, so that a dataset an ETL job wrote on a
cluster can be checked (``earlywarn validate``) and run on this machine as it is.

The parts are read in their names' order and their rows numbered across them. Files
whose names start with ``_`` or ``.`` are the writer's own (``_SUCCESS``, checksums) and
are not parts. A write that did not finish (``_temporary`` still there) and a table
split into sub-directories by a column's value (``partitionBy``) are refused by name:
the first would read half a table, the second loses the column it was split by.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl


class PartsError(Exception):
    """The directory cannot be read as one table: the message names the part and why."""


def part_files(directory: Path) -> list[Path]:
    """The directory's part files in name order, or ``PartsError``."""
    if (directory / "_temporary").exists():
        raise PartsError(
            f"{directory.name}/_temporary: a write still running or stopped half-way; "
            "write the table again (写入未完成)"
        )
    entries = sorted(p for p in directory.iterdir() if not p.name.startswith(("_", ".")))
    split = [p.name for p in entries if p.is_dir() and not p.is_symlink()]
    if split:
        raise PartsError(
            f"{directory.name}/{split[0]}: a table split into directories by a column's "
            "value is not read; write it without partitionBy (请勿按列分区写入)"
        )
    for part in entries:
        if part.is_symlink() or not part.is_file():
            raise PartsError(
                f"{directory.name}/{part.name}: not a regular file; a symbolic link is not "
                "read (只读取普通文件)"
            )
    if not entries:
        raise PartsError(f"{directory.name}: a directory without parts (目录中没有数据文件)")
    return entries


def read_parts(directory: Path) -> pl.DataFrame:
    """Every part's rows, one after the other. A part without a column the others have
    is refused (its rows would read as empty in it: parts of two different writes); a
    column whose parts disagree on its type is read in a type that holds both (text for
    a number in one part and text in another, as a CSV file is read), or refused."""
    frames = []
    parts = part_files(directory)
    for part in parts:
        try:
            frames.append(pl.read_parquet(part))
        except Exception as error:  # any reader failure means the part is unusable
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise PartsError(f"{directory.name}/{part.name}: {first}") from error
    every = {column for frame in frames for column in frame.columns}
    for part, frame in zip(parts, frames, strict=True):
        lacking = sorted(every - set(frame.columns))
        if lacking:
            raise PartsError(
                f"{directory.name}/{part.name}: no column {', '.join(lacking)}, which other "
                "parts have: parts of two different writes? (各部分文件的列不一致)"
            )
    try:
        return pl.concat(frames, how="diagonal_relaxed")
    except pl.exceptions.PolarsError as error:
        first = str(error).strip().splitlines()[0]
        raise PartsError(
            f"{directory.name}: the parts disagree on a column's type: {first}"
        ) from error
