"""The service under load, and the daily risk-list job at a million open cases.

* ``/v1/score`` for a case with 50 contacts and 30 actions, one uvicorn worker on
  loopback, an open-loop load of 50 requests/second for 60 s: p50, p99, errors;
  beside a bare FastAPI endpoint that only calls ``booster.predict`` on a
  prepared row, under the same load (the ratio is the cost of our features,
  validation, explanations and audit). Target: p99 under 30 ms, no errors.
* ``build_risk_list`` for ~1,000,000 open cases of a simulated prefecture (two
  years of history, so the bands and the number of cases to explain are those of
  the simulator, not of random rows); target under 3 minutes.

Models are trained on the shipped sample first (not timed).

    python bench/bench_serving.py [--seconds 60] [--rate 50] [--cases 1000000]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import run_child, simulate_prefecture, train_and_promote

LIST_DAY = dt.date(2024, 12, 31)

BARE_APP = """
import lightgbm as lgb, numpy as np
from fastapi import FastAPI
booster = lgb.Booster(model_file=BOOSTER)
row = np.zeros((1, booster.num_feature()))
app = FastAPI()
@app.post("/bare")
def bare() -> dict:
    return {"p": float(booster.predict(row, num_threads=1)[0])}
"""


def prepare(work: Path) -> None:
    """Train and promote on the sample; write a case body and the bare app."""
    from earlywarn.models import registry

    train_and_promote(work)
    model, _ = registry.load("escalation")
    model.booster.save_model(str(work / "bare_booster.txt"))
    (work / "bare_app.py").write_text(f"BOOSTER = {str(work / 'bare_booster.txt')!r}\n" + BARE_APP)
    start = dt.datetime(2025, 3, 1, 9)
    body = {
        "case": {"case_id": "C-bench", "petitioner_id": "P-bench", "registered_at": start.isoformat(),
                 "county_code": "330211", "township_code": "330211003", "category": "land_requisition",
                 "responsible_unit": "330211-ZRZYJ"},
        "contacts": [{"contact_id": f"K{i}", "occurred_at": (start + dt.timedelta(days=4 * i)).isoformat(),
                      "channel": "visit", "level": ["township", "county", "city"][i % 3], "group_size": 1 + i % 9}
                     for i in range(50)],
        "actions": [{"action_id": f"A{i}", "occurred_at": (start + dt.timedelta(days=6 * i, hours=1)).isoformat(),
                     "action_type": ["accepted", "transferred", "leader_reception"][i % 3], "unit": "330211-ZRZYJ"}
                    for i in range(30)],
        "as_of": "2025-11-01T00:00:00",
    }  # fmt: skip
    (work / "body.json").write_text(json.dumps(body))
    print(json.dumps({}))


def load(
    url: str, body: bytes, headers: dict[str, str], rate: int, seconds: int
) -> dict[str, float]:
    """Open loop: requests start on schedule whatever the answers take."""
    import httpx

    client = httpx.Client(timeout=10.0, limits=httpx.Limits(max_connections=64))
    latencies: list[float] = []
    errors = 0

    def one(scheduled: float) -> tuple[float, bool]:
        delay = scheduled - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        started = time.perf_counter()
        try:
            ok = client.post(url, content=body, headers=headers).status_code == 200
        except httpx.HTTPError:
            ok = False
        return time.perf_counter() - started, ok

    begin = time.perf_counter() + 0.5
    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        futures = [pool.submit(one, begin + i / rate) for i in range(rate * seconds)]
        for future in futures:
            latency, ok = future.result()
            latencies.append(latency)
            errors += not ok
    latencies.sort()
    return {
        "requests": float(len(latencies)),
        "errors": float(errors),
        "p50_ms": latencies[len(latencies) // 2] * 1e3,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1e3,
    }


def serve_and_load(work: Path, rate: int, seconds: int) -> dict[str, dict[str, float]]:
    env = os.environ | {"EARLYWARN_WORK_DIR": str(work), "EARLYWARN_LOG_LEVEL": "WARNING"}
    earlywarn = [sys.executable, "-m", "earlywarn"]
    key = subprocess.run([*earlywarn, "keys", "create", "--role", "case_system"], env=env,
                         capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]  # fmt: skip
    from earlywarn.resources import sample_dataset

    body = (work / "body.json").read_bytes()
    results = {}
    servers = {
        "earlywarn /v1/score": ([*earlywarn, "serve", "--data", str(sample_dataset()), "--port", "8791"],
                                "http://127.0.0.1:8791/v1/score", "http://127.0.0.1:8791/ready"),
        "bare booster.predict": ([sys.executable, "-m", "uvicorn", "bare_app:app", "--port", "8792", "--log-level", "warning"],
                                 "http://127.0.0.1:8792/bare", "http://127.0.0.1:8792/docs"),
    }  # fmt: skip
    import httpx

    for name, (command, url, ready) in servers.items():
        process = subprocess.Popen(
            command, env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            for _ in range(120):
                time.sleep(1)
                try:
                    if httpx.get(ready, timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    continue
            headers = {"X-API-Key": key, "Content-Type": "application/json"}
            load(url, body, headers, rate, 3)  # warm-up
            results[name] = load(url, body, headers, rate, seconds)
        finally:
            process.terminate()
            process.wait(timeout=30)
    return results


def risk_list_job(work: Path, cases: int) -> None:
    """Simulate a prefecture whose scoring population on its last day is about ``cases``
    open cases (72% of those registered over the two years are still open then), then
    time the whole job: load, features, scores and reasons, store, score file, exports."""
    from earlywarn.contract import Mode, load_dataset
    from earlywarn.models import registry
    from earlywarn.serving.risk_list import build_risk_list
    from earlywarn.serving.store import open_store
    from earlywarn.settings import load_settings

    data = work / "prefecture"
    simulate_prefecture(data, cases, LIST_DAY)
    settings = load_settings(work_dir=work)
    sessions = open_store(settings)
    started = time.perf_counter()  # the whole job, as `earlywarn risk-list` runs it
    dataset = load_dataset(data, Mode.LENIENT, settings.quarantine_dir(data))
    registry.connect(settings)
    result = build_risk_list(settings, dataset, LIST_DAY, sessions, registry.load_models())
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 2**30
    bands = result.rows, result.high, result.medium
    print(json.dumps({"seconds": seconds, "rows": bands[0], "high": bands[1],
                      "medium": bands[2], "peak_gib": peak}))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--rate", type=int, default=50)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        kind, work = args.child[0], Path(args.child[1])
        if kind == "prepare":
            prepare(work)
        elif kind == "risk-list":
            risk_list_job(work, int(args.child[2]))
        return
    with tempfile.TemporaryDirectory(prefix="earlywarn-serving-") as temp:
        work = Path(temp)
        run_child(__file__, "--child", "prepare", temp)
        loads = serve_and_load(work, args.rate, args.seconds)
        job = run_child(__file__, "--child", "risk-list", temp, str(args.cases))
    ours, bare = loads["earlywarn /v1/score"], loads["bare booster.predict"]
    print(f"Load: {args.rate} requests/s for {args.seconds} s, open loop, one uvicorn worker, loopback; "
          "a case with 50 contacts and 30 actions.\n")  # fmt: skip
    print("| endpoint | requests | errors | p50 | p99 |")
    print("|---|---:|---:|---:|---:|")
    for name, figures in loads.items():
        print(
            f"| {name} | {figures['requests']:,.0f} | {figures['errors']:,.0f} | {figures['p50_ms']:.1f} ms | {figures['p99_ms']:.1f} ms |"
        )
    print(f"\nRatio earlywarn / bare: p50 {ours['p50_ms'] / bare['p50_ms']:.1f}x, p99 {ours['p99_ms'] / bare['p99_ms']:.1f}x. "
          f"Target p99 < 30 ms and no errors: {'met' if ours['p99_ms'] < 30 and ours['errors'] == 0 else 'NOT met'}.\n")  # fmt: skip
    print(f"Risk-list job: {job['rows']:,} open cases of a simulated prefecture scored, explained, stored and exported "
          f"in {job['seconds']:.0f} s ({job['high']:,} high, {job['medium']:,} medium, peak {job['peak_gib']:.1f} GiB); "
          f"target < 180 s: {'met' if job['seconds'] < 180 else 'NOT met'}.")  # fmt: skip


if __name__ == "__main__":
    main()
