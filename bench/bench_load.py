"""Loading and validating 1,000,000 cases and ~10,000,000 contacts, against plain pandas.

Generates the dataset (Parquet and CSV), then times in fresh processes, rounds
interleaved so that both sides share the machine's noise:

* baseline: ``pandas.read_parquet`` / ``pandas.read_csv`` of the same three files;
* earlywarn: ``load_dataset`` in strict mode (read, check every value, keys,
  references, personal-data guard, redaction, typed tables).

Prints a Markdown table: median seconds, rows per second, peak memory (RSS of the
process) and the ratio to the baseline. Target: Parquet at most 3x the baseline,
peak memory under 8 GB.

    python bench/bench_load.py [--cases N] [--rounds R] [--csv-rounds R]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import run_child

TABLES = ("cases", "contacts", "actions")


def child(kind: str, file_format: str, directory: Path) -> None:
    """Run one measured load in this process and print its figures as JSON."""
    if kind == "pandas":
        import pandas as pd

        start = time.perf_counter()
        reader = pd.read_parquet if file_format == "parquet" else pd.read_csv
        rows = sum(len(reader(directory / f"{t}.{file_format}")) for t in TABLES)
    else:
        from earlywarn.contract import load_dataset

        start = time.perf_counter()
        dataset = load_dataset(directory)
        assert dataset.actions is not None
        rows = dataset.cases.height + dataset.contacts.height + dataset.actions.height
    seconds = time.perf_counter() - start
    peak_bytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "peak_bytes": peak_bytes, "rows": rows}))


def measure(kind: str, file_format: str, directory: Path) -> dict[str, float]:
    return run_child(__file__, "--child", kind, file_format, str(directory))


def generate(cases: int, root: Path) -> None:
    from earlywarn.contract.synthetic import random_dataset, write_dataset

    tables = random_dataset(cases, contacts_per_case=10.0, actions_per_case=6.0, seed=7)
    write_dataset(tables, root / "parquet", "parquet")
    write_dataset(tables, root / "csv", "csv")
    print(json.dumps({name: frame.height for name, frame in tables.items()}))


def generate_elsewhere(cases: int, root: Path) -> dict[str, int]:
    """Generate in a child, so that this parent stays small (see ``run_child``)."""
    return run_child(__file__, "--generate", str(cases), str(root))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3, help="Parquet rounds")
    parser.add_argument("--csv-rounds", type=int, default=1)
    parser.add_argument("--child", nargs=3, metavar=("KIND", "FORMAT", "DIR"))
    parser.add_argument("--generate", nargs=2, metavar=("CASES", "DIR"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], Path(args.child[2]))
        return
    if args.generate:
        generate(int(args.generate[0]), Path(args.generate[1]))
        return

    with tempfile.TemporaryDirectory(prefix="earlywarn-bench-") as temp:
        root = Path(temp)
        started = time.perf_counter()
        counts = generate_elsewhere(args.cases, root)
        print(f"generated in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        sizes = {
            fmt: sum((root / fmt / f"{t}.{fmt}").stat().st_size for t in TABLES)
            for fmt in ("parquet", "csv")
        }
        results: dict[tuple[str, str], list[dict[str, float]]] = {}
        for file_format, rounds in (("parquet", args.rounds), ("csv", args.csv_rounds)):
            for _ in range(rounds):
                for kind in ("pandas", "earlywarn"):
                    figures = measure(kind, file_format, root / file_format)
                    results.setdefault((kind, file_format), []).append(figures)
                    print(kind, file_format, figures, file=sys.stderr)

    print(
        f"Dataset: {counts['cases']:,} cases, {counts['contacts']:,} contacts, "
        f"{counts['actions']:,} actions (random valid rows, `earlywarn.contract.synthetic`); "
        f"Parquet {sizes['parquet'] / 1e6:,.0f} MB, CSV {sizes['csv'] / 1e6:,.0f} MB. "
        f"Rounds: Parquet {args.rounds}, CSV {args.csv_rounds}, interleaved; medians.\n"
    )
    print("| format | reader | seconds | rows/s | peak memory | time vs pandas |")
    print("|---|---|---:|---:|---:|---:|")
    for file_format in ("parquet", "csv"):
        baseline = statistics.median(r["seconds"] for r in results[("pandas", file_format)])
        for kind in ("pandas", "earlywarn"):
            runs = results[(kind, file_format)]
            seconds = statistics.median(r["seconds"] for r in runs)
            rows = runs[0]["rows"]
            peak = max(r["peak_bytes"] for r in runs)
            label = "pandas read only" if kind == "pandas" else "earlywarn load_dataset (strict)"
            print(
                f"| {file_format} | {label} | {seconds:.2f} | {rows / seconds:,.0f} | "
                f"{peak / 1024**3:.2f} GiB | {seconds / baseline:.2f}x |"
            )
    ours = results[("earlywarn", "parquet")]
    ratio = statistics.median(r["seconds"] for r in ours) / statistics.median(
        r["seconds"] for r in results[("pandas", "parquet")]
    )
    peak_gb = max(r["peak_bytes"] for r in ours) / 1e9
    verdict = "met" if ratio <= 3 and peak_gb < 8 else "NOT met"
    print(
        f"\nTarget (Parquet within 3x of pandas, peak memory under 8 GB): {verdict} "
        f"({ratio:.2f}x, {peak_gb:.1f} GB)."
    )


if __name__ == "__main__":
    main()
