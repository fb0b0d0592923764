"""Helpers of the serving tests: a sample case as a request body, a real service, and
a process's appends to the audit chain."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.contract import load_dataset
from earlywarn.models.artifact import RiskModel
from earlywarn.resources import sample_dataset
from earlywarn.serving.audit import audit
from earlywarn.serving.audit_trail import AuditTrail
from earlywarn.serving.store import DailyRun, open_store
from earlywarn.settings import Settings

AS_OF = "2025-11-01T00:00:00"


def case_body(case_id: str) -> dict[str, Any]:
    """A sample case with its contacts and actions, as the score API takes it."""
    sample = load_dataset(sample_dataset())
    assert sample.actions is not None

    def rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
        if "occurred_at" in frame.columns:  # the history up to the moment scored
            frame = frame.filter(pl.col("occurred_at") <= dt.datetime.fromisoformat(AS_OF))
        return [
            {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in row.items()}
            for row in frame.filter(pl.col("case_id") == case_id)
            .with_columns(pl.col(pl.Enum).cast(pl.String))
            .iter_rows(named=True)
        ]

    (case,) = rows(sample.cases)
    return {
        "case": case,
        "contacts": rows(sample.contacts),
        "actions": rows(sample.actions),
        "as_of": AS_OF,
    }


def a_listed_case(client: Any, keys: dict[str, str]) -> dict[str, Any]:
    """The first high-band case of DAY's stored list, as the score API takes it."""
    from tests.serving.conftest import DAY

    page = client.get(
        f"/v1/risk-lists/{DAY}", params={"band": "high"}, headers={"X-API-Key": keys["analyst"]}
    )
    return case_body(page.json()["items"][0]["case_id"])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_service(
    settings: Settings, workers: int = 1, extra_env: dict[str, str] | None = None
) -> Iterator[str]:
    """Start the service over the settings' work directory; yield its base URL."""
    port = free_port()
    env = (
        os.environ
        | {
            "EARLYWARN_WORK_DIR": str(settings.work_dir),
            "EARLYWARN_LOG_LEVEL": "WARNING",
        }
        | (extra_env or {})
    )
    command = [sys.executable, "-m", "earlywarn", "serve", "--data", str(sample_dataset())]
    command += ["--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base, process, ready_answers=3 * workers)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=60)


def wait_until_ready(base: str, process: subprocess.Popen[bytes], ready_answers: int) -> None:
    """Poll /ready on fresh connections (each may reach another worker) until enough say 200."""
    deadline = time.monotonic() + 180
    answers = 0
    while answers < ready_answers:
        if process.poll() is not None:
            error = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"the service stopped: {error[-2000:]}")
        if time.monotonic() > deadline:
            raise TimeoutError("the service was not ready within 180 s")
        try:
            ok = httpx.get(f"{base}/ready", timeout=5).status_code == 200
        except httpx.HTTPError:
            ok = False
        answers = answers + 1 if ok else 0
        time.sleep(0.1 if ok else 0.5)


CHROMIUM = "/usr/bin/chromium"  # Debian's package, installed by scripts/test-services.sh
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def register_damaged(
    target: str, damage: Callable[[Path], None], model: RiskModel | None = None
) -> str:
    """Register a copy of the champion of ``target`` whose saved files ``damage`` changed
    afterwards, the way someone with write access to the artifact store could; the
    digest is recorded over the damaged files, so only the checks can catch it."""
    import mlflow
    from mlflow.tracking import MlflowClient

    from earlywarn.models import registry
    from earlywarn.models.check import artifact_digest
    from earlywarn.models.pyfunc import RiskModelPyfunc

    if model is None:
        model, _ = registry.load(target)
    with tempfile.TemporaryDirectory() as temp:
        directory = Path(temp) / "risk_model"
        model.save(directory)
        damage(directory)
        with mlflow.start_run(run_name="damaged"):
            info = mlflow.pyfunc.log_model(
                name=f"{target}_model",
                python_model=RiskModelPyfunc(),
                artifacts={"model": str(directory)},
                registered_model_name=registry.model_name(target),
            )
        version = str(info.registered_model_version)
        client = MlflowClient()
        client.set_model_version_tag(
            registry.model_name(target), version, registry.DIGEST_TAG, artifact_digest(directory)
        )
    return version


def truncate_booster(directory: Path) -> None:
    booster = directory / "booster.txt"
    content = booster.read_bytes()
    booster.write_bytes(content[: len(content) // 2])


def edit_meta(**changes: Any) -> Callable[[Path], None]:
    def damage(directory: Path) -> None:
        meta = json.loads((directory / "model.json").read_text(encoding="utf-8"))
        for key, value in changes.items():
            if key == "calibrator_y":
                meta["calibrator"]["y"] = meta["calibrator"]["y"][:-1]
            else:
                meta[key] = value
        (directory / "model.json").write_text(json.dumps(meta), encoding="utf-8")

    return damage


def append_both_ways(sessions: sessionmaker[Session], key: bytes, count: int) -> None:
    """Every other record alone in its own transaction (``audit``), the others through a
    trail's group commit: both ways into the chain (what each writer process does in
    the tests of several processes appending at once)."""
    trail = AuditTrail(key, sessions)
    for number in range(count):
        if number % 2:
            with sessions() as session:
                trail.answered(session, None, "test", str(number), 1, "ok")
        else:
            with sessions.begin() as session:
                audit(session, key, "worker", "test", str(number), 1, "ok")


def access_log_line(method: str, address: str, status: int) -> str:
    """What uvicorn's access log writes for a call, once the service's filter has run."""
    import logging

    from earlywarn.serving.main import RedactedAccessLog

    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", method, address, "1.1", status), None,
    )  # fmt: skip
    assert RedactedAccessLog().filter(record)
    return record.getMessage()


NIGHT = dt.date(2025, 10, 29)  # a Wednesday: the daily tests' night


def daily(*args: str) -> tuple[int, str]:
    """``earlywarn daily`` on the sample (another ``--source`` after it wins)."""
    from typer.testing import CliRunner

    from earlywarn.cli import app

    result = CliRunner().invoke(app, ["daily", "--source", str(sample_dataset()), *args])
    return result.exit_code, result.output


def daily_runs(night: Settings) -> list[DailyRun]:
    with open_store(night)() as session:
        return list(session.scalars(select(DailyRun).order_by(DailyRun.id)))
