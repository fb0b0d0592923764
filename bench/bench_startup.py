"""How long a command takes to start: ``earlywarn --version`` and ``--help`` beside a bare
``python -c pass`` (the interpreter's own start) and ``import earlywarn`` (the package).

Each is run 15 times in a fresh process; the median wall time is reported. Issue 19's
bar: ``--help`` and ``--version`` in under 0.5 s, and every command importing only what
it uses (its ``--help`` loads no heavy library; tests/unit/test_cli.py holds it for all).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

EARLYWARN = str(Path(sys.executable).parent / "earlywarn")
RUNS = 15
CASES = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "python -c 'import earlywarn'": [sys.executable, "-c", "import earlywarn"],
    "earlywarn --version": [EARLYWARN, "--version"],
    "earlywarn --help": [EARLYWARN, "--help"],
    "earlywarn validate --help (loads its command)": [EARLYWARN, "validate", "--help"],
    # The commands that run on the heavy libraries: their help must not load them.
    "earlywarn train --help": [EARLYWARN, "train", "--help"],
    "earlywarn daily --help": [EARLYWARN, "daily", "--help"],
    "earlywarn serve --help": [EARLYWARN, "serve", "--help"],
}


def median_seconds(command: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    figures = {name: median_seconds(command) for name, command in CASES.items()}
    baseline = figures["python -c pass (baseline)"]
    print(f"Median of {RUNS} fresh processes each.\n")
    print("| command | median | x baseline |")
    print("|---|---:|---:|")
    for name, seconds in figures.items():
        print(f"| `{name}` | {seconds:.3f} s | {seconds / baseline:.1f}x |")
    slowest = max(v for k, v in figures.items() if k.startswith("earlywarn"))
    print(
        f"\n`--help` and `--version` (every command's help above included) under 0.5 s: "
        f"{'met' if slowest < 0.5 else 'NOT met'} (slowest {slowest:.2f} s)."
    )


if __name__ == "__main__":
    main()
