"""Every import test writes its reports and quarantine under its own work directory, never
into the checkout's ``.earlywarn``."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def own_work_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EARLYWARN_WORK_DIR", str(tmp_path / "work"))
