"""Nightly use: a newer export merged into the dataset an earlier import wrote.

A case in the new export replaces that case's rows in every table (its contacts and
handling steps as exported now), and a contact or step the export holds replaces the row
of its key whichever case held it; every other row is kept. Tables are sorted
by their keys, so the same input gives the same bytes. A table the export does not
hold at all (no actions sheet) is kept as it was.

A case system's database holds every record (``present``): a case, contact or step
it no longer holds was deleted there, and goes here too (a case withdrawn or entered
by mistake stayed on the list for good); one it holds but whose row could not be used
tonight stays as it was.

An export cut short (a file truncated in transfer, a query stopped half-way) would
remove the rows it lost from every case it still holds: a merge that would remove more
than a small share of a table's rows is refused (``removals_refused``) unless the
removals are accepted.

A column the export does not have at all (a view that stopped returning it, a template
that lost it) says nothing of its values: the re-exported rows keep the values imported
before (``supplied``), and the import says so. A column the export has but left empty
clears them, with a warning: an office may really have cleared them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from earlywarn.contract.spec import MOMENTS, TABLES


@dataclass(frozen=True)
class MergeCounts:
    added: int  # keys not in the dataset before
    changed: int  # keys there before, with other contents now
    unchanged: int  # keys there before, the same now
    kept: int  # rows of cases this export does not hold, kept as they were
    removed: int  # rows of re-exported cases that the new export no longer has

    @property
    def before(self) -> int:
        """The table's rows before this export."""
        return self.kept + self.changed + self.unchanged + self.removed


# A merge may remove at most this share of a table's earlier rows (and a few rows
# whatever the share): an office corrects a record now and then, it does not delete
# a fiftieth of its history in a night.
REMOVAL_SHARE = 0.02
REMOVAL_FEW = 10


def removals_refused(counts: dict[str, MergeCounts]) -> list[str]:
    """The tables whose merge would remove too many earlier rows, said in words."""
    return [
        f"{table}: {c.removed:,} of the {c.before:,} rows imported before "
        f"({c.removed / c.before:.0%})"
        for table, c in counts.items()
        if c.removed > max(REMOVAL_FEW, REMOVAL_SHARE * c.before)
    ]


def newest_record(tables: dict[str, pl.DataFrame], names: set[str]) -> dt.datetime | None:
    """The latest moment the named tables record, up to now: a moment typed in the future
    (2032 for 2023) says nothing of how recent an export is."""
    limit = dt.datetime.now() + dt.timedelta(days=1)
    moments = [
        frame.get_column(MOMENTS[name]).filter(frame.get_column(MOMENTS[name]) <= limit).max()
        for name, frame in tables.items()
        if name in MOMENTS and name in names and frame.height
    ]
    found = [m for m in moments if isinstance(m, dt.datetime)]
    return max(found) if found else None


def older_export(existing: dict[str, pl.DataFrame], new: dict[str, pl.DataFrame]) -> str | None:
    """Why this export is older than what was merged before (an export that arrived late,
    or yesterday's left in the drop folder), or None. Merged, it would take back the
    contacts and steps recorded since, and the changes to its cases, without a word.
    Only the tables the export holds count (one without the handling steps says
    nothing of them)."""
    both = set(existing) & set(new)
    before, now = newest_record(existing, both), newest_record(new, both)
    if before is None or now is None or now >= before:
        return None
    return (
        f"its newest record is of {now:%Y-%m-%d %H:%M}, older than the dataset's "
        f"({before:%Y-%m-%d %H:%M})"
    )


Supplied = dict[str, set[str]]  # per table, the columns the export has


def emptied_columns(
    existing: dict[str, pl.DataFrame], new: dict[str, pl.DataFrame], supplied: Supplied
) -> tuple[list[str], list[str]]:
    """Columns left empty for rows that held values before: those the export has but
    left empty (merged, the values go; said, not refused), and those it does not have
    (the values are kept, ``merge_tables``), each as "table.column (N values before)"."""
    emptied: list[str] = []
    kept: list[str] = []
    for table in TABLES:
        fresh, before = new.get(table.name), existing.get(table.name)
        if fresh is None or before is None or fresh.is_empty():
            continue
        again = before.join(fresh.select(table.key), on=table.key, how="semi")
        for column in fresh.columns:
            held = again.height - again[column].null_count() if column in again.columns else 0
            if fresh[column].null_count() == fresh.height and held >= REMOVAL_FEW:
                has = column in supplied.get(table.name, set())
                (emptied if has else kept).append(f"{table.name}.{column} ({held:,} values before)")
    return emptied, kept


def _with_values_before(
    fresh: pl.DataFrame, before: pl.DataFrame, key: str, missing: list[str]
) -> pl.DataFrame:
    """The export's rows with the values imported before in the columns it lacks."""
    held = before.select(key, *missing)
    return fresh.drop(missing).join(held, on=key, how="left").select(before.columns)


def merge_tables(
    existing: dict[str, pl.DataFrame],
    new: dict[str, pl.DataFrame],
    present: dict[str, list[str]] | None = None,
    supplied: Supplied | None = None,
) -> tuple[dict[str, pl.DataFrame], dict[str, MergeCounts]]:
    """The merged tables and what changed in each. ``present``: for a source that holds
    every record (a case system's database), each table's keys it holds, valid or not: a
    row whose key it no longer holds was deleted there, and is removed here too (within
    the removals' guard); a row it holds but could not use stays as it was. ``supplied``:
    the columns the export has, per table; in the others, a re-exported row keeps the
    value imported before (None: every column was exported)."""
    exported = new["cases"].get_column("case_id").implode()
    merged: dict[str, pl.DataFrame] = {}
    counts: dict[str, MergeCounts] = {}
    for table in TABLES:
        fresh = new.get(table.name)
        before = existing.get(table.name)
        if fresh is None and before is None:
            continue
        if before is None:
            assert fresh is not None
            merged[table.name] = fresh.sort(table.key)
            counts[table.name] = MergeCounts(fresh.height, 0, 0, 0, 0)
            continue
        if fresh is None:
            # An export without this table says nothing of it (an office that leaves out
            # the handling steps' sheet one night has not undone them): kept whole.
            merged[table.name] = before
            counts[table.name] = MergeCounts(0, 0, 0, before.height, 0)
            continue
        fresh = fresh.select(before.columns).cast(dict(before.schema))  # type: ignore[arg-type]
        if supplied is not None:
            has = supplied.get(table.name, set())
            missing = [c for c in before.columns if c not in has and c != table.key]
            fresh = _with_values_before(fresh, before, table.key, missing) if missing else fresh
        # A key the export holds replaces that key's row wherever it was, even under a
        # case the export does not hold (a contact the office moved to another case):
        # the merged table keeps every key once.
        keys = fresh.get_column(table.key).implode()
        superseded = pl.col("case_id").is_in(exported) | pl.col(table.key).is_in(keys)
        if present is not None:  # deleted in the source: no longer kept
            held = pl.Series(present.get(table.name, []), dtype=pl.String).implode()
            superseded = superseded | ~pl.col(table.key).cast(pl.String).is_in(held)
        kept = before.filter(~superseded)
        replaced = before.filter(superseded)
        old_rows = replaced.with_columns(pl.Series("_hash", replaced.hash_rows()))
        new_rows = fresh.with_columns(pl.Series("_hash", fresh.hash_rows()))
        joined = new_rows.join(old_rows.select(table.key, "_hash"), on=table.key, how="left")
        added = joined.filter(pl.col("_hash_right").is_null()).height
        unchanged = joined.filter(pl.col("_hash") == pl.col("_hash_right")).height
        changed = fresh.height - added - unchanged
        removed = replaced.filter(~pl.col(table.key).is_in(keys))
        merged[table.name] = pl.concat([kept, fresh]).sort(table.key)
        counts[table.name] = MergeCounts(added, changed, unchanged, kept.height, removed.height)
    return merged, counts


def existing_tables(out: Path) -> dict[str, pl.DataFrame]:
    """The tables an earlier import wrote to ``out`` (none: a first import)."""
    return {
        table.name: pl.read_parquet(out / f"{table.name}.parquet")
        for table in TABLES
        if (out / f"{table.name}.parquet").is_file()
    }
