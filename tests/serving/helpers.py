"""Helpers of the serving tests: a sample case as a request body, and a real service."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import polars as pl

from earlywarn.contract import load_dataset
from earlywarn.resources import sample_dataset
from earlywarn.settings import Settings

AS_OF = "2025-11-01T00:00:00"


def case_body(case_id: str) -> dict[str, Any]:
    """A sample case with its contacts and actions, as the score API takes it."""
    sample = load_dataset(sample_dataset())
    assert sample.actions is not None

    def rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_service(settings: Settings, workers: int = 1) -> Iterator[str]:
    """Start the service over the settings' work directory; yield its base URL."""
    port = free_port()
    env = os.environ | {
        "EARLYWARN_WORK_DIR": str(settings.work_dir),
        "EARLYWARN_LOG_LEVEL": "WARNING",
    }
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
