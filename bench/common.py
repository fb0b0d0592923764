"""Helpers shared by the benchmarks: the machine's description, measured child processes."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def run_child(script: str, *args: str, source: Path | None = None) -> dict[str, Any]:
    """Run ``script`` with ``args`` in a fresh Python and return the JSON of its last line;
    with ``source``, earlywarn is imported from that tree's ``src`` (a baseline's code).

    A fresh process measures its own peak memory: the high-water mark survives
    fork and exec, so the parent must not be the one that did the heavy work.
    """
    env = None if source is None else {**os.environ, "PYTHONPATH": str(source / "src")}
    completed = subprocess.run(
        [sys.executable, script, *args], check=True, capture_output=True, text=True, env=env
    )
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def describe_machine() -> str:
    memory_kb = 0
    cpu = platform.processor() or platform.machine()
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory_kb / 1024**2:.1f} GiB memory, "
        f"Python {platform.python_version()}, {platform.system()} {platform.machine()}"
    )


def train_and_promote(work: Path) -> None:
    """Train on the shipped sample with the default settings and promote both models: the
    champions a benchmark's work directory starts from."""
    import datetime as dt

    from earlywarn.contract import load_dataset
    from earlywarn.models import registry
    from earlywarn.resources import sample_dataset
    from earlywarn.settings import load_settings
    from earlywarn.training.pipeline import train
    from earlywarn.training.registry import promote

    settings = load_settings(work_dir=work)
    result = train(load_dataset(sample_dataset()), dt.datetime(2026, 1, 1), settings)
    client = registry.connect(settings)
    for target, version in result.versions.items():
        promote(client, target, version)


def simulate_prefecture(data: Path, open_cases: int, last_day: Any) -> None:
    """A simulated prefecture whose scoring population on ``last_day`` is about
    ``open_cases`` (72% of the cases registered over the years are still open then)."""
    import datetime as dt

    from earlywarn.simulator.export import simulate_to_directory
    from earlywarn.simulator.run import SimulationConfig

    config = SimulationConfig(
        cases=round(open_cases / 0.72), start=dt.date(2023, 1, 1), end=last_day, seed=9
    )
    simulate_to_directory(config, data)


@contextlib.contextmanager
def checkout(ref: str) -> Iterator[Path]:
    """The project's tree at a git ref, in a temporary worktree (a baseline's code)."""
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="earlywarn-baseline-") as temp:
        tree = Path(temp) / "tree"
        subprocess.run(
            ["git", "-C", str(root), "worktree", "add", "--detach", "-q", str(tree), ref],
            check=True,
        )
        try:
            yield tree
        finally:
            subprocess.run(
                ["git", "-C", str(root), "worktree", "remove", "--force", str(tree)], check=True
            )
