"""Importing an office's export of 100,000 cases (about a million rows), against pandas.

Simulates 100,000 cases, writes them as an office would export them (a workbook with
Chinese headers, values and offices' names, mixed date forms, one contact sheet a year;
and GBK CSV files), then times in fresh processes:

* baseline: ``pandas.read_excel`` (openpyxl) of every sheet of the same workbook, and
  ``pandas.read_csv(encoding="gbk")`` of the same files: reading only, no mapping, no check;
* earlywarn: ``import_source``: read, find the tables, map headers, values and offices,
  parse the dates, run the contract's checks, write the Parquet dataset.

Target: the workbook imported in under 60 s on this machine.

    python bench/bench_import.py [--cases N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from common import run_child


def child(kind: str, source: Path, out: Path) -> None:
    start = time.perf_counter()
    if kind == "pandas-xlsx":
        import pandas as pd

        sheets = pd.read_excel(next(source.glob("*.xlsx")), sheet_name=None, engine="openpyxl")
        rows = sum(len(frame) for frame in sheets.values())
    elif kind == "pandas-csv":
        import pandas as pd

        rows = sum(len(pd.read_csv(path, encoding="gbk")) for path in source.glob("*.csv"))
    else:
        from earlywarn.ingest.run import import_source

        result = import_source(source, out)
        rows = sum(count for _, _, count, _ in result.sources)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "rows": rows, "peak_bytes": peak}))


def generate(cases: int, root: Path) -> dict[str, float]:
    from earlywarn.simulator.export import simulate_to_directory
    from earlywarn.simulator.run import SimulationConfig

    config = SimulationConfig(cases=cases, start=dt.date(2023, 1, 1), end=dt.date(2024, 12, 31))
    made = {}
    for kind in ("xlsx-office", "csv-gbk"):
        start = time.perf_counter()
        simulate_to_directory(config, root / kind, kind)
        made[kind] = time.perf_counter() - start
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--child", nargs=3)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    with tempfile.TemporaryDirectory(prefix="earlywarn-import-") as temp:
        root = Path(temp)
        generate(args.cases, root)
        figures = {}
        for name, kind, source in (
            ("pandas.read_excel (openpyxl), reading only", "pandas-xlsx", root / "xlsx-office"),
            ("earlywarn import, workbook", "earlywarn", root / "xlsx-office"),
            ("pandas.read_csv (gbk), reading only", "pandas-csv", root / "csv-gbk"),
            ("earlywarn import, GBK CSV", "earlywarn", root / "csv-gbk"),
        ):
            figures[name] = run_child(
                __file__, "--child", kind, str(source), str(root / f"out-{kind}")
            )
    print(f"{args.cases:,} simulated cases exported as an office would; fresh process each.\n")
    print("| reader | rows | seconds | peak memory |")
    print("|---|---:|---:|---:|")
    for name, figure in figures.items():
        print(
            f"| {name} | {figure['rows']:,} | {figure['seconds']:.1f} | {figure['peak_bytes'] / 2**30:.2f} GiB |"
        )
    ours, excel = (
        figures["earlywarn import, workbook"],
        figures["pandas.read_excel (openpyxl), reading only"],
    )
    csv_ours, csv_base = (
        figures["earlywarn import, GBK CSV"],
        figures["pandas.read_csv (gbk), reading only"],
    )
    print(f"\nRatio earlywarn / pandas: workbook {ours['seconds'] / excel['seconds']:.2f}x, "
          f"GBK CSV {csv_ours['seconds'] / csv_base['seconds']:.2f}x. "
          f"Target workbook under 60 s: {'met' if ours['seconds'] < 60 else 'NOT met'}.")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
