"""Storage faults: a busy store answers 503 and the process lives on; the list and its
files never disagree (one run per day, a manifest, --verify, a rerun that repairs)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.contract import Dataset
from earlywarn.models.registry import LoadedModels
from earlywarn.serving import list_files
from earlywarn.serving.access import Role, create_key
from earlywarn.serving.app import create_app
from earlywarn.serving.list_files import ListBusyError, day_lock, list_folder
from earlywarn.serving.risk_list import build_risk_list, verify_list
from earlywarn.serving.scorer import Scorer
from earlywarn.serving.store import database_url, open_store
from earlywarn.settings import Settings, load_settings

DAY = dt.date(2025, 10, 24)


def test_a_busy_store_answers_503_and_the_service_recovers(tmp_path: Path) -> None:
    settings = load_settings(work_dir=tmp_path, database_busy_seconds=0.2)
    sessions = open_store(settings)
    with sessions.begin() as session:
        token = create_key(session, Role.ANALYST).token
    client = TestClient(create_app(Scorer(settings, None), sessions))
    path = database_url(settings).removeprefix("sqlite:///")
    holder = sqlite3.connect(path, timeout=0.1)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    released = threading.Event()
    try:
        busy = client.get("/v1/risk-lists/2025-01-01", headers={"X-API-Key": token})
        assert busy.status_code == 503 and busy.headers["retry-after"] == "5"
        # A body that cannot be parsed, without a key: its refusal cannot be recorded,
        # so no key is judged either; it is a 503 too, never a 422 to a stranger.
        broken = client.post(
            "/v1/score", content=b"{", headers={"Content-Type": "application/json"}
        )
        assert broken.status_code == 503 and broken.headers["retry-after"] == "5"
        assert client.get("/live").status_code == 200  # reads that need no write still work
    finally:
        holder.rollback()
        holder.close()
        released.set()
    again = client.get("/v1/risk-lists/2025-01-01", headers={"X-API-Key": token})
    assert again.status_code == 404  # no list that day: the store answers again


def test_one_run_per_day_at_a_time(
    settings: Settings, sessions: sessionmaker[Session], sample: Dataset, champions: LoadedModels
) -> None:
    with day_lock(list_folder(settings, DAY)), pytest.raises(ListBusyError, match="in progress"):
        build_risk_list(settings, sample, DAY, sessions, champions)


def test_files_are_verified_and_a_rerun_repairs_them(
    settings: Settings,
    sessions: sessionmaker[Session],
    sample: Dataset,
    champions: LoadedModels,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built = build_risk_list(settings, sample, DAY, sessions, champions)
    assert verify_list(settings, sessions, DAY) == []
    real = list_files.write_atomically

    def crash_before_xlsx(path: Path, content: bytes) -> None:
        if path.suffix == ".xlsx":
            raise KeyboardInterrupt("killed between the CSV and the XLSX")
        real(path, content)

    built.files["csv"].write_bytes(b"tampered")
    monkeypatch.setattr(list_files, "write_atomically", crash_before_xlsx)
    with pytest.raises(KeyboardInterrupt):
        build_risk_list(settings, sample, DAY, sessions, champions)
    monkeypatch.setattr(list_files, "write_atomically", real)
    built.files["xlsx"].write_bytes(b"old")
    problems = verify_list(settings, sessions, DAY)
    assert any("risk-list.xlsx" in p for p in problems)
    runner = CliRunner()
    monkeypatch.setenv("EARLYWARN_WORK_DIR", str(settings.work_dir))
    checked = runner.invoke(app, ["risk-list", "--verify", "--date", DAY.isoformat()])
    assert checked.exit_code == 1 and "risk-list.xlsx" in checked.output
    build_risk_list(settings, sample, DAY, sessions, champions)
    assert verify_list(settings, sessions, DAY) == []
    checked = runner.invoke(app, ["risk-list", "--verify", "--date", DAY.isoformat()])
    assert checked.exit_code == 0, checked.output


def test_keys_revoke(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EARLYWARN_WORK_DIR", str(settings.work_dir))
    runner = CliRunner()
    made = runner.invoke(app, ["keys", "create", "--role", "analyst", "--label", "revoke me"])
    token = made.stdout.strip().splitlines()[0]
    revoked = runner.invoke(app, ["keys", "revoke", token[:14]])  # longer than keys list
    assert revoked.exit_code == 0 and "revoked 已吊销" in revoked.output, revoked.output
    again = runner.invoke(app, ["keys", "revoke", token])  # the whole key pasted
    assert again.exit_code == 0 and "already revoked" in again.output, again.output
    unknown = runner.invoke(app, ["keys", "revoke", "ew_nothing"])
    assert unknown.exit_code == 1 and "keys list" in unknown.output
    sessions = open_store(settings)
    client = TestClient(create_app(Scorer(settings, None), sessions))
    assert client.get("/v1/risk-lists/2025-01-01", headers={"X-API-Key": token}).status_code == 401
    listed = runner.invoke(app, ["keys", "list"])
    assert "revoked" in listed.output


IMMUTABLE_CHILD = """
import subprocess, sys
from pathlib import Path
from fastapi.testclient import TestClient
from earlywarn.serving.access import Role, create_key
from earlywarn.serving.app import create_app
from earlywarn.serving.scorer import Scorer
from earlywarn.serving.store import open_store
from earlywarn.settings import load_settings

work, which = Path(sys.argv[1]), sys.argv[2]
settings = load_settings(work_dir=work)
sessions = open_store(settings)
with sessions.begin() as session:
    token = create_key(session, Role.ANALYST).token
names = ["earlywarn.db"] + (["earlywarn.db-wal", "earlywarn.db-shm"] if which == "wal" else [])
files = [work / name for name in names if (work / name).exists()]
for file in files:
    subprocess.run(["chattr", "+i", str(file)], check=True)
try:
    client = TestClient(create_app(Scorer(settings, None), sessions))
    listed = client.get("/v1/risk-lists/2025-01-01", headers={"X-API-Key": token})
    print(listed.status_code, listed.headers.get("retry-after"), client.get("/live").status_code)
finally:
    for file in files:
        subprocess.run(["chattr", "-i", str(file)], check=True)
"""


@pytest.mark.parametrize("which", ["database", "wal"])
def test_an_immutable_store_answers_503_and_the_process_survives(
    tmp_path: Path, which: str
) -> None:
    """Made immutable, the database file (or its -wal and -shm files, which SQLite maps
    into memory: SIGBUS before the check) answers 503; the process lives on."""
    import subprocess
    import sys

    probe = tmp_path / "probe"
    probe.touch()
    if subprocess.run(["chattr", "+i", str(probe)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available on this file system")
    subprocess.run(["chattr", "-i", str(probe)], check=True)
    child = subprocess.run(
        [sys.executable, "-c", IMMUTABLE_CHILD, str(tmp_path / "work"), which],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.split() == ["503", "5", "200"]
