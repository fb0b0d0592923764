"""An import's dataset written: merged by keys into what an earlier import wrote there
(``merge``), refused whole when the export looks cut short or late, and the night's
tables replaced together or not at all."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl

from earlywarn.contract import Dataset
from earlywarn.files import write_all_atomically
from earlywarn.ingest.merge import (
    MergeCounts,
    Supplied,
    emptied_columns,
    existing_tables,
    merge_tables,
    older_export,
    removals_refused,
)
from earlywarn.ingest.sources import SourceError, shown_source


class ExportShrankError(SourceError):
    """The export would remove many rows an earlier import holds: nothing was written."""


def write_merged(
    dataset: Dataset,
    out: Path,
    source: Path | str,
    accept_removals: bool,
    supplied: Supplied,
    present: dict[str, list[str]] | None = None,
) -> tuple[list[Path], dict[str, MergeCounts], tuple[list[str], list[str]]]:
    """The dataset as Parquet, merged into what an earlier import wrote there."""
    tables = {"cases": dataset.cases, "contacts": dataset.contacts, "actions": dataset.actions}
    new = {
        name: frame.with_columns(pl.col(pl.Enum, pl.Categorical).cast(pl.String))
        for name, frame in tables.items()
        if frame is not None
    }
    existing = existing_tables(out)
    # A case's summary is not kept: nothing in earlywarn reads it (no feature, list, page
    # or answer), and free text holds names, addresses and illnesses no redaction finds.
    # Earlier imports' summaries go too.
    for frames in (new, existing):
        if "cases" in frames and "summary" in frames["cases"].columns:
            frames["cases"] = frames["cases"].with_columns(pl.lit(None, pl.String).alias("summary"))
    older = None if accept_removals else older_export(existing, new)
    if older:
        raise ExportShrankError(
            f"{shown_source(source)}: {older}: an export that arrived late, or an earlier "
            "one left in the folder? Merged, it would take back what was recorded since. "
            "Nothing was written (导出数据比已导入的数据旧，未写入). To merge it anyway: "
            f"earlywarn import {shown_source(source)} --out {out} --accept-removals"
        )
    merged, counts = merge_tables(existing, new, present, supplied)
    refused = [] if accept_removals else removals_refused(counts)
    if refused:
        raise ExportShrankError(
            f"{shown_source(source)}: merged into {out}, this export would remove "
            f"{'; '.join(refused)} from the cases it holds again: an export cut short? "
            "Nothing was written (导出数据比上次少了大量记录，未写入). If the records were "
            f"really deleted: earlywarn import {shown_source(source)} --out {out} --accept-removals"
            + (
                " (the URL with its password, as the night was given it); if the database's "
                "queries hold a window of time rather than every record, say "
                "database_complete: false in the mapping file"
                if present is not None
                else ""
            )
        )
    out.mkdir(parents=True, exist_ok=True)
    files = {out / f"{name}.parquet": _parquet_bytes(frame) for name, frame in merged.items()}
    write_all_atomically(files)  # the tables of one night together, or none of them
    return list(files), counts, emptied_columns(existing, new, supplied)


def _parquet_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()
