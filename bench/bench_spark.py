"""The daily list of a million open cases on Spark in local mode, beside the embedded engine.

Issue 16: the same list (same checksum) built three ways on the same data and models,
each in a fresh process with a list store of its own: the embedded engine (Polars on
every core), Spark ``local[2]`` and Spark ``local[1]`` (the scaling from one core to
two). Timed: load (the embedded engine's load and validation; Spark's session start
and reading), then the list (features, scores, reasons, store, files). Peak memory is
the whole process tree's (the JVM and its Python workers included), sampled every
0.2 s. The first night (no earlier list), as on the day a cluster takes over.

``--data DIR`` reuses a simulated prefecture (``bench_daily``'s) instead of simulating it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import run_child, simulate_prefecture, train_and_promote

LAST_DAY = dt.date(2024, 12, 31)
RUNS = [("embedded", None), ("spark", "local[2]"), ("spark", "local[1]")]


class TreeMemory:
    """The peak resident memory of this process and its children, sampled."""

    def __init__(self) -> None:
        import psutil

        self.root, self.peak, self._stop = psutil.Process(), 0, threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        import psutil

        while not self._stop.wait(0.2):
            total = 0
            for process in [self.root, *self.root.children(recursive=True)]:
                try:
                    total += process.memory_info().rss
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak / 2**30


def measure(work: Path, data: Path, engine: str, master: str | None) -> None:
    from earlywarn.contract import Mode, load_dataset
    from earlywarn.models import registry
    from earlywarn.models.capacity import Capacity
    from earlywarn.serving.risk_list import build_risk_list, store_scored_list
    from earlywarn.serving.store import open_store
    from earlywarn.settings import load_settings

    registry.connect(load_settings(work_dir=work))
    models = registry.load_models()
    settings = load_settings(work_dir=work / f"{engine}-{master}")  # a store of its own
    sessions = open_store(settings)
    memory = TreeMemory()
    started = time.perf_counter()
    if engine == "embedded":
        dataset = load_dataset(data, Mode.LENIENT, settings.quarantine_dir(data))
        loaded = time.perf_counter()
        built = build_risk_list(settings, dataset, LAST_DAY, sessions, models)
    else:
        from earlywarn.spark.dataset import read_dataset
        from earlywarn.spark.day import spark_scores
        from earlywarn.spark.session import spark_session

        session = spark_session(master)
        spark_data = read_dataset(session, str(data))
        loaded = time.perf_counter()
        capacity = Capacity(settings.capacity_share, settings.capacity_minimum)
        partitions = 4 * session.sparkContext.defaultParallelism
        scorer = spark_scores(spark_data, models, capacity, partitions)
        built = store_scored_list(settings, LAST_DAY, sessions, models, scorer)
    finished = time.perf_counter()
    print(json.dumps({"load": loaded - started, "list": finished - loaded,
                      "rows": built.rows, "high": built.high, "checksum": built.checksum,
                      "peak_gib": memory.stop()}))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        if args.child[0] == "prepare":
            work, data = Path(args.child[1]), Path(args.child[2])
            train_and_promote(work)
            if not (data / "cases.parquet").exists():
                simulate_prefecture(data, int(args.child[3]), LAST_DAY)
            print(json.dumps({}))
        else:
            engine, master = args.child[3], (None if args.child[4] == "-" else args.child[4])
            measure(Path(args.child[1]), Path(args.child[2]), engine, master)
        return
    with tempfile.TemporaryDirectory(prefix="earlywarn-spark-") as temp:
        data = args.data or Path(temp) / "prefecture"
        run_child(__file__, "--child", "prepare", temp, str(data), str(args.cases))
        results = {
            (engine, master): run_child(
                __file__, "--child", "measure", temp, str(data), engine, master or "-"
            )
            for engine, master in RUNS
        }
    base = results[RUNS[0]]
    first = next(iter(results.values()))
    print(f"A simulated prefecture, {first['rows']:,} open cases on {LAST_DAY} "
          f"({first['high']:,} flagged); champions trained on the sample; the first night "
          f"(no earlier list); each run in a fresh process with its own store.\n")  # fmt: skip
    print(
        "| engine | load (s) | list (s) | in all (s) | ratio to embedded | peak memory, process tree (GiB) | checksum |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    for (engine, master), result in results.items():
        total = result["load"] + result["list"]
        ratio = total / (base["load"] + base["list"])
        name = engine if master is None else f"spark {master}"
        print(f"| {name} | {result['load']:.1f} | {result['list']:.1f} | {total:.1f} | "
              f"{ratio:.2f} | {result['peak_gib']:.1f} | {result['checksum'][:12]} |")  # fmt: skip
    same = len({r["checksum"] for r in results.values()}) == 1
    one, two = results[("spark", "local[1]")], results[("spark", "local[2]")]
    speedup = (one["load"] + one["list"]) / (two["load"] + two["list"])
    print(
        f"\nSame list from every engine: {'yes' if same else 'NO'}. "
        f"Spark from local[1] to local[2]: {speedup:.2f}x faster."
    )


if __name__ == "__main__":
    sys.exit(main())
