"""Run every bench/bench_*.py and append its figures to BENCHMARKS.md.

Each script prints a Markdown section on stdout; this runner adds the date,
the machine and the exact command, so every figure says where it came from.
``run_all.py bench_daily -- --against REF`` passes the options after ``--`` to the
named benchmarks.
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
    # Names of benchmarks to run (all without), then after "--" options for them.
    given = sys.argv[1:]
    only = given[: given.index("--")] if "--" in given else given
    options = given[given.index("--") + 1 :] if "--" in given else []
    if only:
        scripts = [s for s in scripts if s.stem in only or s.name in only]
    failed = 0
    for script in scripts:
        command = " ".join(["python", f"bench/{script.name}", *options])
        print(f"== {command}", flush=True)
        completed = subprocess.run(
            [sys.executable, str(script), *options],
            cwd=BENCH.parent,
            stdout=subprocess.PIPE,
            text=True,
        )
        if completed.returncode != 0:
            print(f"{script.name} failed with exit code {completed.returncode}", file=sys.stderr)
            failed += 1
            continue
        when = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
        section = (
            f"\n## {script.stem} ({when})\n\n"
            f"* Machine: {describe_machine()}\n"
            f"* Command: `{'python bench/run_all.py ' + ' '.join(given) if options else 'make bench'}`"
            f" (runs `{command}`)\n\n"
            f"{completed.stdout.strip()}\n"
        )
        with RESULTS.open("a", encoding="utf-8") as stream:
            stream.write(section)
        print(completed.stdout)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
