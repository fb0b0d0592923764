"""The office's tables, grown morning by morning from what the simulation recorded.

Writing every table whole each morning (``History.tables``) cost a quarter of the
study's time; here only the day's new records are turned into rows and appended.
The moments inside a day are drawn once, when a record is first written; the case
summaries are left empty (no feature reads them).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from earlywarn.contract.loader import Dataset, trusted_dataset
from earlywarn.simulator.output import action_frame, case_frame, contact_frame
from earlywarn.simulator.run import History
from earlywarn.simulator.state import Cases


class MorningTables:
    def __init__(self, history: History, seed: int) -> None:
        self._history, self._seed = history, seed
        self._cases_seen = self._contacts_seen = self._actions_seen = 0
        self._frames: dict[str, pl.DataFrame] = {}

    def dataset(self) -> Dataset:
        """Everything recorded before this morning, typed as the contract types it."""
        history = self._history
        record, registry = history.recorder, history.registry
        rng = np.random.default_rng([self._seed, history.day, 99])
        contacts = contact_frame(
            record.contact_parts[self._contacts_seen :], history.timeline, rng,
            self._rows("contacts"),
        )  # fmt: skip
        actions = action_frame(
            record.action_parts[self._actions_seen :], history.world, history.timeline, rng,
            self._rows("actions"),
        )  # fmt: skip
        new_cases = registry.parts[self._cases_seen :]
        cases = case_frame(
            Cases.concat(new_cases), history.world, None, contacts
        ) if new_cases else None  # fmt: skip
        self._append("contacts", contacts)
        self._append("actions", actions)
        if cases is not None:
            self._append("cases", cases)
        self._contacts_seen = len(record.contact_parts)
        self._actions_seen = len(record.action_parts)
        self._cases_seen = len(registry.parts)
        return trusted_dataset(Path("simulated"), self._frames, history.known_events)

    def _rows(self, name: str) -> int:
        frame = self._frames.get(name)
        return 0 if frame is None else frame.height

    def _append(self, name: str, rows: pl.DataFrame) -> None:
        frame = self._frames.get(name)
        self._frames[name] = rows if frame is None else pl.concat([frame, rows], rechunk=False)
