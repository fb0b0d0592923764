"""A table written in parts (``cases.parquet/part-*.parquet``, as Spark writes one) is
read as the one file would be; a write left half-way, a table split by a column's value,
a part that is a link or whose types disagree are refused, naming the part."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from earlywarn.contract import ContractError, load_dataset
from earlywarn.contract.loader import Dataset
from earlywarn.resources import sample_dataset


@pytest.fixture(scope="module")
def sample() -> Dataset:
    return load_dataset(sample_dataset())


def _plain(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col(pl.Enum, pl.Categorical).cast(pl.String))


def _write(sample: Dataset, directory: Path, parts: int) -> Path:
    """The sample's tables as Parquet: one file each, or a directory of ``parts`` parts
    with Spark's marker and checksum files beside them."""
    directory.mkdir()
    assert sample.actions is not None
    for name, frame in (("cases", sample.cases), ("contacts", sample.contacts),
                        ("actions", sample.actions)):  # fmt: skip
        frame = _plain(frame)
        if parts == 1:
            frame.write_parquet(directory / f"{name}.parquet")
            continue
        folder = directory / f"{name}.parquet"
        folder.mkdir()
        (folder / "_SUCCESS").write_bytes(b"")
        size = -(-frame.height // parts)
        for i in range(parts):
            frame.slice(i * size, size).write_parquet(folder / f"part-{i:05d}.snappy.parquet")
            (folder / f".part-{i:05d}.snappy.parquet.crc").write_bytes(b"crc")
    return directory


def test_a_table_in_parts_reads_as_the_one_file(sample: Dataset, tmp_path: Path) -> None:
    whole = load_dataset(_write(sample, tmp_path / "whole", parts=1))
    in_parts = load_dataset(_write(sample, tmp_path / "parts", parts=3))
    for name in ("cases", "contacts", "actions"):
        assert getattr(in_parts, name).equals(getattr(whole, name)), name
    counts = {t.table: t.rows_read for t in in_parts.report.tables}
    assert counts == {t.table: t.rows_read for t in whole.report.tables}


def test_a_bad_row_is_named_by_its_row_across_the_parts(sample: Dataset, tmp_path: Path) -> None:
    dataset = _write(sample, tmp_path / "parts", parts=3)
    folder = dataset / "contacts.parquet"
    second = folder / "part-00001.snappy.parquet"
    first_rows = pl.read_parquet(folder / "part-00000.snappy.parquet").height
    frame = pl.read_parquet(second)
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("nowhere")).otherwise(pl.col("channel"))
        .alias("channel")
    )  # fmt: skip
    frame.write_parquet(second)
    with pytest.raises(ContractError) as raised:
        load_dataset(dataset)
    errors = raised.value.report.errors.select("file", "line", "column", "code")
    assert errors.rows() == [("contacts.parquet", first_rows + 3, "channel", "bad_enum")]


@pytest.mark.parametrize(
    ("spoil", "said"),
    [
        (lambda f: (f / "_temporary").mkdir(), "_temporary: a write still running"),
        (lambda f: (f / "county_code=330211").mkdir(), "county_code=330211: a table split"),
        (
            lambda f: (f / "part-9.parquet").symlink_to("/etc/passwd"),
            "part-9.parquet: not a regular",
        ),
        (
            lambda f: (f / "part-9.parquet").write_bytes(b"not parquet"),
            "cases.parquet/part-9.parquet",
        ),
        (
            lambda f: (
                pl.read_parquet(f / "part-00001.snappy.parquet")
                .with_columns(pl.concat_list(pl.lit(1)).alias("category"))
                .write_parquet(f / "part-00001.snappy.parquet")
            ),
            "the parts disagree on a column's type",
        ),
        (
            lambda f: (
                pl.read_parquet(f / "part-00001.snappy.parquet")
                .drop("responsible_unit")
                .write_parquet(f / "part-00001.snappy.parquet")
            ),
            "part-00001.snappy.parquet: no column responsible_unit",
        ),
    ],
    ids=["unfinished", "partitioned", "link", "not-parquet", "types", "column"],
)
def test_a_table_in_parts_that_cannot_be_read_whole_is_refused_by_its_part(
    sample: Dataset, tmp_path: Path, spoil: object, said: str
) -> None:
    dataset = _write(sample, tmp_path / "parts", parts=2)
    spoil(dataset / "cases.parquet")  # type: ignore[operator]
    with pytest.raises(ContractError) as raised:
        load_dataset(dataset)
    lines = " ".join(raised.value.report.error_lines(limit=5))
    assert said in lines, lines
    assert "root:" not in lines


def test_a_directory_without_parts_is_refused(sample: Dataset, tmp_path: Path) -> None:
    dataset = _write(sample, tmp_path / "parts", parts=2)
    for part in (dataset / "cases.parquet").glob("part-*"):
        part.unlink()
    with pytest.raises(ContractError) as raised:
        load_dataset(dataset)
    assert "a directory without parts" in " ".join(raised.value.report.error_lines(limit=5))
