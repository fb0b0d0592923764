"""A day's list as files: written from the list the store committed, and checkable.

One run per date at a time (a lock file beside the files), so that the store and the
files can never hold two different lists. The files are written after the commit, each
renamed into place, and a ``manifest.json`` last: the list's checksum (the store's) and
each file's SHA-256. ``risk-list --verify`` holds the files to the manifest and the
manifest to the store; a rerun rewrites whatever is missing or differs.

A rerun that stores another list for the day (a later export, other champions) first
moves the earlier list's files aside, to ``replaced/<its checksum>/``: the list an
office printed and worked from that morning stays on disk, not only in the audit chain.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from earlywarn.files import write_atomically
from earlywarn.serving.ledger import LedgerInfo, ledger_files
from earlywarn.settings import Settings

MANIFEST = "manifest.json"
SCORES, LEDGER_CSV, LEDGER_XLSX = "scores.csv", "risk-list.csv", "risk-list.xlsx"
UNEXPLAINED = "unexplained-features.parquet"  # listed rows whose reasons wait to be asked for
LOCK = ".lock"
REPLACED = "replaced"  # earlier lists of the day, each in a folder named by its checksum


class ListBusyError(RuntimeError):
    """Another run is building the same day's list."""


def list_folder(settings: Settings, day: dt.date) -> Path:
    return settings.work_dir / "risk-lists" / day.isoformat()


@contextmanager
def day_lock(folder: Path) -> Iterator[None]:
    """Hold the day's lock, or raise ``ListBusyError`` at once (never wait behind a run)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / LOCK).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise ListBusyError(
                f"another risk-list run for {folder.name} is in progress; try again when it ends"
            ) from error
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@dataclass(frozen=True)
class MadeFiles:
    """A day's files in memory, with the SHA-256 of each for the manifest (summed where
    they are made, beside the store's work, not after it)."""

    contents: dict[str, bytes]
    digests: dict[str, str]


def list_file_contents(
    scores: pl.DataFrame,
    items: pl.DataFrame,
    info: LedgerInfo,
    tables: dict[str, pl.DataFrame],
    printed: int,
) -> MadeFiles:
    """The day's files, made in memory: the score file (every case), the ledger as CSV
    (the rows the job explained: the office's capacity and every flagged case) and as the
    printed XLSX (the first ``printed`` of them: the capacity, a day's work), the tables
    kept for later as Parquet (the features of the listed rows left to explain on demand,
    the basis of the next day's changes).

    The other medium rows stay on the page, where their reasons are computed when
    opened: nobody reads a hundred thousand explanations a morning."""
    read = items.filter((pl.col("risk_band") != "low") & (pl.col("reasons") != "[]"))
    ledger, workbook = ledger_files(read, info, printed)
    contents = {
        SCORES: scores.write_csv(datetime_format="%Y-%m-%dT%H:%M:%S").encode("utf-8"),
        LEDGER_CSV: ledger,
        LEDGER_XLSX: workbook,
    }
    for name, table in tables.items():
        buffer = io.BytesIO()
        table.write_parquet(buffer, statistics=True)
        contents[name] = buffer.getvalue()
    return MadeFiles(contents, {name: _sha256(content) for name, content in contents.items()})


def write_list_files(
    folder: Path, made: MadeFiles, checksum: str, model_versions: str
) -> dict[str, Path]:
    """The files of the list stored with ``checksum``, each written whole, then the
    manifest that names them: ``scores``, ``csv`` and ``xlsx``, and the kept tables."""
    contents = made.contents
    for name, content in contents.items():
        write_atomically(folder / name, content)
    manifest = {
        "list_date": folder.name,
        "checksum": checksum,
        "model_versions": model_versions,
        "files": made.digests,
    }
    write_atomically(folder / MANIFEST, json.dumps(manifest, indent=2).encode("utf-8"))
    named = {"scores": SCORES, "csv": LEDGER_CSV, "xlsx": LEDGER_XLSX}
    kept = {name: name for name in contents if name not in named.values()}
    return {key: folder / name for key, name in (named | kept).items()}


def keep_replaced(folder: Path, checksum: str) -> Path | None:
    """Move the files of the day's earlier list, when it is another list than ``checksum``,
    to ``replaced/<its checksum>/`` with its manifest; return that folder.

    Only the files still as its manifest wrote them are moved: a run killed after the
    store's commit may have overwritten some with the new list's, which are not the
    earlier list's. Nothing is moved when no manifest names an earlier list."""
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # none, or not one (edited by hand): nothing to keep
        return None
    earlier = str(manifest.get("checksum", "")) if isinstance(manifest, dict) else ""
    if not earlier or earlier == checksum:
        return None
    kept = folder / REPLACED / earlier[:16]
    kept.mkdir(parents=True, exist_ok=True)
    for name, expected in manifest.get("files", {}).items():
        file = folder / name
        if file.exists() and _sha256(file.read_bytes()) == expected:
            file.replace(kept / name)
    path.replace(kept / MANIFEST)
    return kept


def verify_list_files(folder: Path, stored_checksum: str) -> list[str]:
    """What is wrong with a day's files (empty: they are the stored list's)."""
    path = folder / MANIFEST
    if not path.exists():
        return [f"{path}: missing (the run stopped before its files were complete)"]
    manifest = json.loads(path.read_text(encoding="utf-8"))
    problems = []
    if manifest.get("checksum") != stored_checksum:
        problems.append(f"{path}: made for another list than the stored one")
    for name, expected in manifest.get("files", {}).items():
        file = folder / name
        if not file.exists():
            problems.append(f"{file}: missing")
        elif _sha256(file.read_bytes()) != expected:
            problems.append(f"{file}: differs from the list it was written for")
    return problems
