"""An office's page and nightly store as the stored lists accumulate: a year of history.

A city of 5,000 open cases in 10 counties keeps one list a night. Each night's
rows are stored the product's way (``risk_list.store_list``), and an office key's first
page (50 rows of its county, in rank order, ``lists.item_query``) is read after 1, 30
and 365 nights. Beside it, one night of a million rows in 964 counties stored (a prefecture's list),
first into an empty store and then beside it. The baseline is the same run with the
code of a git ref (``--against``; by default the commit before migration 0008, whose
store indexed the rows by county alone, across every list), in a child process of its
own: same rows, same queries.

    python bench/bench_list_history.py [--nights 365] [--big-rows 1000000] [--against REF]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from common import checkout, run_child

CASES, COUNTIES, FIRST = 5_000, 10, dt.date(2025, 1, 1)
PREFECTURE_COUNTIES = 964  # the simulated million-case prefecture's
CHECKPOINTS = (1, 30, 365)
READS = 30
BEFORE_0008 = "57145e7"


def night_rows(rows: int, night: int, counties: int = COUNTIES) -> pl.DataFrame:
    """A night's list rows (ITEM_COLUMNS) of ``rows`` cases in ``counties`` counties,
    ranked by a random score."""
    rng = np.random.default_rng(night)
    county = np.random.default_rng(0).integers(0, counties, rows)  # a case keeps its county
    score = rng.random(rows)
    order = np.argsort(-score)
    rank = np.empty(rows, dtype=np.int64)
    rank[order] = np.arange(1, rows + 1)
    band = np.where(score > 0.95, "high", np.where(score > 0.8, "medium", "low"))
    return pl.DataFrame(
        {
            "rank": rank,
            "case_id": [f"C{i:07d}" for i in range(rows)],
            "county_code": [f"33{c:04d}" for c in county.tolist()],
            "township_code": None,
            "category": "land",
            "escalation_probability": score,
            "collective_probability": score / 2,
            "escalation_flag": band == "high",
            "collective_flag": False,
            "risk_band": band,
            "reasons": np.where(band == "low", "[]", '[{"feature":"contacts_30d"}]'),
            "steps": "[]",
            "days_since_last_contact": 3.0,
            "changes": "{}",
        }
    )


def store(work: Path) -> object:
    from earlywarn.serving.store import open_store
    from earlywarn.settings import load_settings

    return open_store(load_settings(work_dir=work))


def first_page_ms(sessions: object, key: object, list_date: dt.date) -> float:
    from earlywarn.serving.lists import Filters, find_list, item_query

    timings = []
    with sessions() as db:  # type: ignore[operator]
        header = find_list(db, list_date)
        for _ in range(READS):
            started = time.perf_counter()
            page = db.scalars(item_query(key, header, Filters()).limit(50)).all()
            timings.append((time.perf_counter() - started) * 1e3)
            assert len(page) == 50
    return statistics.median(timings)


def run(nights: int, big_rows: int) -> dict[str, float]:
    from earlywarn.serving.access import Role, create_key
    from earlywarn.serving.risk_list import store_list

    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="earlywarn-history-") as temp:
        sessions = store(Path(temp))
        with sessions() as db:  # type: ignore[operator]
            key = create_key(db, Role.OFFICE, "330003").key
            db.commit()
            db.expunge(key)
        stored = []
        for night in range(1, nights + 1):
            day = FIRST + dt.timedelta(days=night - 1)
            rows = night_rows(CASES, night)
            started = time.perf_counter()
            with sessions.begin() as db:  # type: ignore[attr-defined]
                store_list(db, day, dt.datetime.combine(day, dt.time(23, 59)), rows, "v1")
            stored.append(time.perf_counter() - started)
            if night in CHECKPOINTS:
                figures[f"first page, night {night} (ms)"] = first_page_ms(sessions, key, day)
        figures["storing a night, median of the last 30 (ms)"] = (
            statistics.median(stored[-30:]) * 1e3
        )
    if big_rows:
        with tempfile.TemporaryDirectory(prefix="earlywarn-history-") as temp:
            sessions = store(Path(temp))
            day = FIRST
            # The second night lands beside a stored one, as every night after the first.
            for night, label in enumerate(("first", "second"), start=1):
                rows = night_rows(big_rows, night, PREFECTURE_COUNTIES)
                started = time.perf_counter()
                with sessions.begin() as db:  # type: ignore[attr-defined]
                    store_list(db, day, dt.datetime.combine(day, dt.time(23, 59)), rows, "v1")
                figures[f"storing {big_rows:,} rows, {label} night (s)"] = (
                    time.perf_counter() - started
                )
                day += dt.timedelta(days=1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nights", type=int, default=365)
    parser.add_argument("--big-rows", type=int, default=1_000_000)
    parser.add_argument("--against", default=BEFORE_0008, help="the baseline's git ref")
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    sizes = (str(args.nights), str(args.big_rows))
    if args.child:
        print(json.dumps(run(args.nights, args.big_rows)))
        return
    ours = run_child(__file__, "--child", "--nights", sizes[0], "--big-rows", sizes[1])
    with checkout(args.against) as tree:
        # The baseline's code, this script: the measurement is the same either way.
        theirs = run_child(__file__, "--child", "--nights", sizes[0], "--big-rows", sizes[1],
                           source=tree)  # fmt: skip
    print(f"A city of {CASES:,} open cases in {COUNTIES} counties, one list a night; an office "
          f"key's first page (50 rows of its county), median of {READS} reads.\n")  # fmt: skip
    print(f"| figure | this code | {args.against} (baseline) | x baseline |")
    print("|---|---:|---:|---:|")
    for name, mine in ours.items():
        print(f"| {name} | {mine:.2f} | {theirs[name]:.2f} | {mine / theirs[name]:.2f}x |")


if __name__ == "__main__":
    sys.exit(main())
