"""What machine a benchmark ran on: cores, memory, processor, Python."""

from __future__ import annotations

import os
import platform
from pathlib import Path


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
