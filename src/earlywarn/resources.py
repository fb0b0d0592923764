"""Files shipped with the project: sample data, calendars, the contract's JSON Schema.

A leaf, like ``settings`` and ``logs``: it imports nothing of ours, so any layer may
find the project's files through it.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir() -> Path:
    """The project's ``data/`` folder, in a source checkout or an installed wheel."""
    for candidate in (_PACKAGE / "_data", _PACKAGE.parent.parent / "data"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("earlywarn's data folder is missing from this installation")


def sample_dataset() -> Path:
    return data_dir() / "sample"


def quality_worlds() -> Path:
    """bench/bench_quality.py's summary: how the default training fares across worlds."""
    return data_dir() / "quality" / "worlds.json"


def schema_file(contract_version: str) -> Path:
    """The committed JSON Schema of a contract version."""
    return data_dir() / "schema" / f"contract-{contract_version}.schema.json"
