"""The value study (issue 15): the documented configuration, timed, and two sweeps.

1. The documented configuration: 5 worlds of 20,000 cases, 6 months of daily lists,
   every policy at the settings' capacity and effects x1 (`earlywarn evaluate-policy`
   with its defaults). Bar: under 20 minutes on this machine.
2. A range of effect sizes (x0, the control; x0.5; x2) on 2 worlds over 3 months.
3. A sweep of the list's capacity (1% and 4%) on the same 2 worlds over 3 months.

Each runs in a fresh process with a temporary work directory; the reports are printed
here (and so recorded in BENCHMARKS.md), and the documented run's chart is copied to
docs/value.png for docs/value.md. ``--only N`` runs one part.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EARLYWARN = str(Path(sys.executable).parent / "earlywarn")
ROOT = Path(__file__).resolve().parent.parent
BAR_SECONDS = 20 * 60
PARTS = {
    1: ("documented configuration", []),
    2: ("effect sizes", ["--seeds", "2", "--months", "3", "--effect-scale", "0",
                         "--effect-scale", "0.5", "--effect-scale", "2"]),
    3: ("capacity sweep", ["--seeds", "2", "--months", "3", "--capacity-share", "0.01",
                           "--capacity-share", "0.04"]),
}  # fmt: skip


def run(part: int, work: Path) -> None:
    title, options = PARTS[part]
    out = work / f"value-{part}"
    command = [EARLYWARN, "evaluate-policy", "--out", str(out), *options]
    env = {**os.environ, "EARLYWARN_WORK_DIR": str(work / "work")}
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    shown = " ".join(["earlywarn evaluate-policy", *options])
    print(f"### {part}. {title}: `{shown}`\n")
    report = (out / "value.md").read_text(encoding="utf-8")
    print(report.split("\n", 2)[2].strip() + "\n")  # without the report's own title
    verdict = "met" if seconds < BAR_SECONDS else "NOT met"
    line = f"Wall time {seconds / 60:.1f} min"
    print(f"{line}; bar < 20 min: {verdict}.\n" if part == 1 else f"{line}.\n")
    if part == 1:
        shutil.copyfile(out / "value.png", ROOT / "docs" / "value.png")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", type=int, choices=sorted(PARTS))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="earlywarn-value-") as temp:
        for part in [args.only] if args.only else sorted(PARTS):
            run(part, Path(temp))


if __name__ == "__main__":
    main()
