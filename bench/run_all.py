"""Run every bench/bench_*.py and append its figures to BENCHMARKS.md.

Each script prints a Markdown section on stdout; this runner adds the date,
the machine and the exact command, so every figure says where it came from.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

from common import describe_machine

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH.parent / "BENCHMARKS.md"


def main() -> int:
    scripts = sorted(BENCH.glob("bench_*.py"))
    only = sys.argv[1:]
    if only:
        scripts = [s for s in scripts if s.stem in only or s.name in only]
    failed = 0
    for script in scripts:
        command = f"python bench/{script.name}"
        print(f"== {command}", flush=True)
        completed = subprocess.run(
            [sys.executable, str(script)], cwd=BENCH.parent, stdout=subprocess.PIPE, text=True
        )
        if completed.returncode != 0:
            print(f"{script.name} failed with exit code {completed.returncode}", file=sys.stderr)
            failed += 1
            continue
        when = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
        section = (
            f"\n## {script.stem} ({when})\n\n"
            f"* Machine: {describe_machine()}\n"
            f"* Command: `make bench` (runs `{command}`)\n\n"
            f"{completed.stdout.strip()}\n"
        )
        with RESULTS.open("a", encoding="utf-8") as stream:
            stream.write(section)
        print(completed.stdout)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
