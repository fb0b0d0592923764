"""Helpers shared by the benchmarks: the machine's description, measured child processes."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any


def run_child(script: str, *args: str) -> dict[str, Any]:
    """Run ``script`` with ``args`` in a fresh Python and return the JSON of its last line.

    A fresh process measures its own peak memory: the high-water mark survives
    fork and exec, so the parent must not be the one that did the heavy work.
    """
    completed = subprocess.run(
        [sys.executable, script, *args], check=True, capture_output=True, text=True
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
