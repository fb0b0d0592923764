"""Feature pipeline speed: the daily list, training snapshots, one posted case.

Runs, each in a fresh process (peak memory is its own):

* daily list: every feature for the scoring population of 1,000,000 cases with
  ~10,000,000 contacts and ~6,000,000 actions (random valid rows) at one moment;
  target under 20 s and 6 GB. Baseline: a plain per-case pandas implementation
  of the same features (``pandas_features.py``), timed on a subset of the
  population and extrapolated to all of it (said so in the output); target 50x;
* training: weekly snapshots over two years for 100,000 simulated cases; target
  under 2 minutes;
* online: one case with 50 contacts and 30 actions, in process; target median
  under 2 ms and p99 under 5 ms. Baseline beside it: the batch path's Polars
  code run on that one case.

    python bench/bench_features.py [--cases 1000000] [--pandas-subset 500]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import statistics
import tempfile
import time
from pathlib import Path

from common import run_child

AS_OF = dt.datetime(2025, 6, 1)


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def generate(cases: int, out: Path) -> None:
    from earlywarn.contract.synthetic import random_dataset, write_dataset

    write_dataset(random_dataset(cases, 10.0, 6.0, seed=3), out, "parquet")
    print(json.dumps({}))


def daily(directory: Path) -> None:
    from earlywarn.contract import load_dataset
    from earlywarn.features.build import build_features

    dataset = load_dataset(directory)
    loaded = _peak_gb()
    started = time.perf_counter()
    table = build_features(dataset, [AS_OF])
    seconds = time.perf_counter() - started
    assert dataset.actions is not None
    print(json.dumps({
        "seconds": seconds, "pairs": table.height, "peak_gb": _peak_gb(), "loaded_gb": loaded,
        "cases": dataset.cases.height, "contacts": dataset.contacts.height, "actions": dataset.actions.height,
    }))  # fmt: skip


def pandas_baseline(directory: Path, subset: int) -> None:
    import polars as pl

    from earlywarn.contract import load_dataset
    from earlywarn.contract.spec import CATEGORIES, CATEGORY_FAMILY
    from earlywarn.features.labels import scoring_population
    from earlywarn.features.sensitive import CalendarIndex
    from pandas_features import context_frames, features_per_case

    dataset = load_dataset(directory)
    assert dataset.actions is not None
    population = scoring_population(dataset.cases, dataset.contacts, dataset.actions, AS_OF)
    cases = dataset.cases.with_columns(
        pl.col("category").cast(pl.String).replace_strict(CATEGORY_FAMILY).alias("family"),
        pl.col("category")
        .cast(pl.String)
        .replace_strict({c: i for i, c in enumerate(CATEGORIES)})
        .alias("category_index"),
    )
    frames = {name: frame.with_columns(pl.col(pl.Enum).cast(pl.String)).to_pandas() for name, frame in
              {"cases": cases, "contacts": dataset.contacts, "actions": dataset.actions}.items()}  # fmt: skip
    chosen = frames["cases"][
        frames["cases"]["case_id"].isin(population["case_id"].head(subset).to_list())
    ]
    calendar = CalendarIndex.build(AS_OF.date(), AS_OF.date(), dataset.calendar)
    started = time.perf_counter()
    context = context_frames(frames["cases"], frames["contacts"], frames["actions"])
    result = features_per_case(
        chosen, frames["contacts"], frames["actions"], context, calendar, AS_OF
    )
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "cases": len(result), "population": population.height}))


def training(cases: int) -> None:
    from earlywarn.contract import load_dataset
    from earlywarn.features.build import build_features
    from earlywarn.simulator.export import simulate_to_directory
    from earlywarn.simulator.run import SimulationConfig

    with tempfile.TemporaryDirectory(prefix="earlywarn-train-") as temp:
        config = SimulationConfig(
            cases=cases, start=dt.date(2023, 1, 1), end=dt.date(2025, 12, 31), seed=4
        )
        simulate_to_directory(config, Path(temp), "parquet")
        dataset = load_dataset(Path(temp))
    weeks = [dt.datetime(2023, 12, 4) + dt.timedelta(weeks=w) for w in range(104)]
    started = time.perf_counter()
    table = build_features(dataset, weeks)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "pairs": table.height,
                "snapshots": len(weeks),
                "peak_gb": _peak_gb(),
            }
        )
    )


def online(rounds: int) -> None:
    import polars as pl

    from earlywarn.contract import Dataset
    from earlywarn.contract.report import ValidationReport
    from earlywarn.contract.synthetic import random_dataset
    from earlywarn.features.build import STATIC, assemble, sources_for
    from earlywarn.features.online import CaseRows, online_features
    from earlywarn.features.online_context import OnlineSources

    tables = random_dataset(3000, contacts_per_case=60.0, actions_per_case=40.0, seed=5)
    typed = _typed(tables)
    dataset = Dataset(
        Path(),
        typed["cases"],
        typed["contacts"],
        typed["actions"],
        None,
        ValidationReport(Path(), "strict"),
    )
    as_of = dt.datetime(2026, 6, 1)
    sources = sources_for(dataset, as_of, as_of)
    lookup = OnlineSources.of(sources)
    counts = dataset.contacts.group_by("case_id").len().filter(pl.col("len") >= 50)
    case_id = counts.join(
        dataset.actions.group_by("case_id").len().filter(pl.col("len") >= 30), on="case_id"
    )["case_id"][0]
    case = dataset.cases.filter(pl.col("case_id") == case_id)
    contacts = dataset.contacts.filter(pl.col("case_id") == case_id).head(50)
    actions = dataset.actions.filter(pl.col("case_id") == case_id).head(30)
    rows = CaseRows.from_frames(case, contacts, actions)
    pairs = case.select("case_id", pl.lit(as_of, dtype=pl.Datetime("us")).alias("as_of"), *STATIC)

    def timed(call, n: int) -> list[float]:  # type: ignore[no-untyped-def]
        spent = []
        for _ in range(n):
            started = time.perf_counter()
            call()
            spent.append(time.perf_counter() - started)
        return spent

    ours = timed(lambda: online_features(rows, as_of, lookup), rounds)
    batch = timed(lambda: assemble(pairs, contacts, actions, sources), max(rounds // 20, 50))
    print(json.dumps({"ours": ours, "batch": batch}))


def _typed(tables):  # type: ignore[no-untyped-def]
    """Random tables typed as the loader types them, without writing files."""
    import polars as pl

    from earlywarn.contract.checks import value_dtype
    from earlywarn.contract.spec import TABLES

    return {
        t.name: tables[t.name].select(pl.col(c.name).cast(value_dtype(c)) for c in t.columns)
        for t in TABLES
    }


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--pandas-subset", type=int, default=500)
    parser.add_argument("--training-cases", type=int, default=100_000)
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        kind, rest = args.child[0], args.child[1:]
        {
            "generate": lambda: generate(int(rest[0]), Path(rest[1])),
            "daily": lambda: daily(Path(rest[0])),
            "pandas": lambda: pandas_baseline(Path(rest[0]), int(rest[1])),
            "training": lambda: training(int(rest[0])),
            "online": lambda: online(int(rest[0])),
        }[kind]()
        return
    with tempfile.TemporaryDirectory(prefix="earlywarn-features-") as temp:
        run_child(__file__, "--child", "generate", str(args.cases), temp)
        ours = run_child(__file__, "--child", "daily", temp)
        baseline = run_child(__file__, "--child", "pandas", temp, str(args.pandas_subset))
    train = run_child(__file__, "--child", "training", str(args.training_cases))
    speed = run_child(__file__, "--child", "online", "5000")

    per_case = baseline["seconds"] / baseline["cases"]
    extrapolated = per_case * ours["pairs"]
    ratio = extrapolated / ours["seconds"]
    print(
        f"Daily list at {AS_OF:%Y-%m-%d}: {ours['cases']:,} cases, {ours['contacts']:,} contacts, "
        f"{ours['actions']:,} actions (random valid rows); scoring population {ours['pairs']:,} cases.\n"
    )
    print("| path | what | time | peak memory | target | met |")
    print("|---|---|---:|---:|---|---|")
    print(
        f"| daily list | earlywarn build_features, one as-of | {ours['seconds']:.1f} s | {ours['peak_gb']:.2f} GB "
        f"(of which loading {ours['loaded_gb']:.2f}) | < 20 s, < 6 GB | "
        f"{'yes' if ours['seconds'] < 20 and ours['peak_gb'] < 6 else 'NO'} |"
    )
    print(
        f"| daily list | plain per-case pandas, {baseline['cases']:,} cases timed ({baseline['seconds']:.1f} s), "
        f"extrapolated to {ours['pairs']:,} | {extrapolated:,.0f} s (extrapolated) | | | |"
    )
    print(
        f"| daily list | speed-up over per-case pandas | {ratio:,.0f}x | | >= 50x | {'yes' if ratio >= 50 else 'NO'} |"
    )
    print(
        f"| training | {train['snapshots']} weekly snapshots, {args.training_cases:,} simulated cases, "
        f"{train['pairs']:,} (case, as-of) rows | {train['seconds']:.1f} s | {train['peak_gb']:.2f} GB | < 120 s | "
        f"{'yes' if train['seconds'] < 120 else 'NO'} |"
    )
    median, p99 = statistics.median(speed["ours"]) * 1e3, _quantile(speed["ours"], 0.99) * 1e3
    batch_median = statistics.median(speed["batch"]) * 1e3
    print(
        f"| online | one case, 50 contacts, 30 actions, {len(speed['ours']):,} calls | median {median:.3f} ms, "
        f"p99 {p99:.3f} ms | | < 2 ms, < 5 ms | {'yes' if median < 2 and p99 < 5 else 'NO'} |"
    )
    print(
        f"| online | the batch path's Polars code on the same case | median {batch_median:.1f} ms "
        f"({batch_median / median:.0f}x the online path) | | | |"
    )


if __name__ == "__main__":
    main()
