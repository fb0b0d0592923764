"""``/v1/score`` under load, measured by load generators that are not Python-bound.

A case with 50 contacts and 30 actions (bench_serving's), answered with reasons,
steps and an audit record per request; models trained on the shipped sample.

* Saturation: ``wrk`` (Debian's package) with 32 connections for 20 s against one
  uvicorn worker, against two (``--workers 2``), and against a bare FastAPI endpoint
  that only calls ``booster.predict`` on a prepared row (the yardstick): requests/s,
  p50 and p99.
* A fixed rate: ``hey`` at 300 requests/s for 20 s against one worker and against two:
  p99, errors.
* The audit chain afterwards: ``earlywarn audit verify`` over every record written
  across workers and restarts, and the records of answered calls.
* In one process, no HTTP, before any server starts: what the call's steps cost (body
  validation, scoring with reasons and steps, of which both models' single-row TreeSHAP)
  beside the budget a call has at 600/s once the bare endpoint's own cost is paid.

With ``--against REF`` one worker of a git ref's code is measured beside, with the same
models and load (its saturation only) and a store of its own, since an older commit
cannot open a store migrated past it; its records are not in the audit figures.

Issue 19's bar: >= 600 requests/s per worker at saturation, p99 < 20 ms at 300/s.
Both generators run on the same two cores as the server: at saturation they take
part of the CPU the server could use (stated in the output).

    python bench/bench_api.py [--seconds 20] [--against REF]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import checkout, run_child

PORTS = {"earlywarn, 1 worker": 8793, "earlywarn, 2 workers": 8794, "bare booster.predict": 8795}
BASELINE_PORT = 8796


def install_generators() -> None:
    """wrk and hey from Debian's packages, when the machine lacks them."""
    missing = [tool for tool in ("wrk", "hey") if shutil.which(tool) is None]
    if missing:
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip


def start(name: str, port: int, work: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    from earlywarn.resources import sample_dataset

    if name.startswith("bare"):
        command = [sys.executable, "-m", "uvicorn", "bare_app:app", "--port", str(port),
                   "--log-level", "warning"]  # fmt: skip
    else:
        workers = "2" if "2 workers" in name else "1"
        command = [sys.executable, "-m", "earlywarn", "serve", "--data", str(sample_dataset()),
                   "--port", str(port), "--workers", workers]  # fmt: skip
    process = subprocess.Popen(
        command, env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    ready = f"http://127.0.0.1:{port}" + ("/docs" if name.startswith("bare") else "/ready")
    import httpx

    for _ in range(180):
        time.sleep(1)
        try:
            if httpx.get(ready, timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            continue
    process.terminate()
    raise RuntimeError(f"{name} did not become ready")


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def saturate(url: str, script: Path, seconds: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = (int(bad.group(1)) if bad else 0) + (sum(map(int, errors.groups())) if errors else 0)
    return {"rps": rate, "p50_ms": p50, "p99_ms": p99, "requests": total, "errors": failed}


def fixed_rate(url: str, body: Path, key: str, rate: int, seconds: int) -> dict[str, float]:
    clients = 10
    out = subprocess.run(
        ["hey", "-z", f"{seconds}s", "-c", str(clients), "-q", str(rate // clients), "-m", "POST",
         "-T", "application/json", "-H", f"X-API-Key: {key}", "-D", str(body), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    if re.search(r"50%+ in", out) is None:  # no answer came back: say what hey saw
        raise RuntimeError(f"hey got no latency distribution from {url}:\n{out[-2000:]}")
    p50 = float(re.search(r"50%+ in ([\d.]+) secs", out).group(1)) * 1e3  # type: ignore[union-attr]
    p99 = float(re.search(r"99%+ in ([\d.]+) secs", out).group(1)) * 1e3  # type: ignore[union-attr]
    achieved = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    codes = dict(re.findall(r"\[(\d+)\]\s+(\d+) responses", out))
    ok = int(codes.get("200", 0))
    return {"rps": achieved, "p50_ms": p50, "p99_ms": p99, "ok": ok,
            "errors": sum(int(n) for c, n in codes.items() if c != "200")}  # fmt: skip


def in_process(work: Path) -> dict[str, float]:
    """Medians over repeated calls of the score route's steps without HTTP, in ms (child)."""
    import statistics

    from earlywarn.resources import sample_dataset
    from earlywarn.serving.schemas import ScoreRequest
    from earlywarn.serving.scorer import Scorer
    from earlywarn.settings import load_settings

    scorer = Scorer(load_settings(work_dir=work), sample_dataset())
    scorer.load_sources()
    scorer.refresh_models()
    body = (work / "body.json").read_bytes()
    request = ScoreRequest.model_validate_json(body)
    models, _, values = scorer._values(request)
    rows = {t: m.row_matrix(values) for t, m in models.models.items()}

    def shap() -> None:
        for target, model in models.models.items():
            model.contributions_of(rows[target])

    steps = {"validation": lambda: ScoreRequest.model_validate_json(body),
             "scoring": lambda: scorer.score(request).model_dump_json(), "treeshap": shap}  # fmt: skip
    medians = {}
    for name, step in steps.items():
        times = []
        for _ in range(1500):
            started = time.perf_counter()
            step()
            times.append(time.perf_counter() - started)
        medians[name] = statistics.median(times[300:]) * 1e3  # the first calls warm caches
    medians["trees"] = float(sum(m.booster.num_trees() for m in models.models.values()))
    return medians


def credentials(work: Path, env: dict[str, str], label: str) -> tuple[str, Path]:
    """A case system's key in the store ``env`` names, and wrk's script that sends it."""
    earlywarn = [sys.executable, "-m", "earlywarn"]
    key = subprocess.run([*earlywarn, "keys", "create", "--role", "case_system"], env=env,
                         capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]  # fmt: skip
    script = work / f"post-{label}.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f'wrk.body = io.open("{work / "body.json"}"):read("*a")\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["X-API-Key"] = "{key}"\n'
    )
    return key, script


def measure(
    work: Path, seconds: int, against: str | None, tree: Path | None, steps: dict[str, float]
) -> None:
    env = os.environ | {"EARLYWARN_WORK_DIR": str(work), "EARLYWARN_LOG_LEVEL": "WARNING"}
    earlywarn = [sys.executable, "-m", "earlywarn"]
    body = work / "body.json"
    key, script = credentials(work, env, "this")
    results: dict[str, dict[str, float]] = {}
    servers = list(PORTS.items())
    if tree is not None:
        servers.append((f"earlywarn at {against} (baseline), 1 worker", BASELINE_PORT))
    for name, port in servers:
        path = "/bare" if name.startswith("bare") else "/v1/score"
        url = f"http://127.0.0.1:{port}{path}"
        server_env, server_script = env, script
        if tree is not None and "(baseline)" in name:
            # the baseline's own store: an older commit cannot open a store migrated past it
            server_env = env | {"PYTHONPATH": str(tree / "src"),
                                "EARLYWARN_DATABASE_URL": f"sqlite:///{work / 'baseline.db'}"}  # fmt: skip
            server_script = credentials(work, server_env, "baseline")[1]
        process = start(name, port, work, server_env)
        try:
            saturate(url, server_script, 5)  # warm-up
            results[f"{name}: saturation (wrk, 32 connections)"] = saturate(
                url, server_script, seconds
            )
            if name in ("earlywarn, 1 worker", "earlywarn, 2 workers"):
                results[f"{name}: 300 requests/s (hey)"] = fixed_rate(url, body, key, 300, seconds)
        finally:
            process.terminate()
            process.wait(timeout=60)
    verified = subprocess.run([*earlywarn, "audit", "verify"], env=env, capture_output=True,
                              text=True)  # fmt: skip
    with sqlite3.connect(work / "earlywarn.db") as db:
        records = db.execute("SELECT count(*) FROM audit_log WHERE action = 'score'").fetchone()[0]
    answered = sum(r.get("requests", r.get("ok", 0)) for n, r in results.items()
                   if n.startswith("earlywarn") and "(baseline)" not in n)  # fmt: skip
    print("| server and load | requests/s | p50 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|")
    for name, r in results.items():
        print(
            f"| {name} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']:.0f} |"
        )
    one = results["earlywarn, 1 worker: saturation (wrk, 32 connections)"]["rps"]
    two = results["earlywarn, 2 workers: saturation (wrk, 32 connections)"]["rps"]
    bare = results["bare booster.predict: saturation (wrk, 32 connections)"]["rps"]
    fixed = results["earlywarn, 1 worker: 300 requests/s (hey)"]
    print(f"\nOne worker at saturation: {one:.0f} requests/s, {one / bare:.2f}x the bare endpoint; "
          f"two workers {two / one:.2f}x one. Target >= 600/s per worker: "
          f"{'met' if one >= 600 else 'NOT met'}. At 300/s: p99 {fixed['p99_ms']:.1f} ms, "
          f"target < 20 ms: {'met' if fixed['p99_ms'] < 20 and not fixed['errors'] else 'NOT met'}.")  # fmt: skip
    pair = results["earlywarn, 2 workers: 300 requests/s (hey)"]
    print(f"Two workers at 300/s (the sizing docs/serving.md gives): {pair['rps']:.0f} answered "
          f"a second, p50 {pair['p50_ms']:.1f} ms, p99 {pair['p99_ms']:.1f} ms.")  # fmt: skip
    print(f"Audit: {records:,} score records for {answered:,.0f} calls completed by the "
          f"generators (the warm-ups' calls and calls cut off at the end of a run are recorded too); "
          f"`earlywarn audit verify`: {'whole' if verified.returncode == 0 else 'BROKEN'}.")  # fmt: skip
    if tree is not None:
        name = f"earlywarn at {against} (baseline), 1 worker: saturation (wrk, 32 connections)"
        theirs = results[name]["rps"]
        print(f"Baseline {against}, one worker: {theirs:.0f} requests/s; this code "
              f"{one / theirs:.2f}x it.")  # fmt: skip
    if verified.returncode != 0:  # say what the check found, not only that it failed
        print(f"\n`earlywarn audit verify` said (exit {verified.returncode}):\n\n```\n"
              f"{(verified.stdout + verified.stderr).strip()[-3000:]}\n```")  # fmt: skip
    budget = 1e3 / 600 - 1e3 / bare
    print(f"In one process without HTTP (medians): body validation {steps['validation']:.2f} ms, "
          f"scoring with reasons and steps {steps['scoring']:.2f} ms, of which both models' "
          f"single-row TreeSHAP ({steps['trees']:.0f} trees) {steps['treeshap']:.2f} ms. At 600/s a "
          f"call has 1.67 ms, {budget:.2f} ms once the bare endpoint's own {1e3 / bare:.2f} ms is "
          f"paid: TreeSHAP alone is {steps['treeshap'] / budget:.2f}x that budget.")  # fmt: skip
    print("wrk, hey and the server(s) share the machine's 2 cores.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--against", help="a git ref whose code is measured beside (one worker)")
    parser.add_argument("--child", nargs="+")
    parser.add_argument("--in-process", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        from bench_serving import prepare

        prepare(Path(args.child[0]))
        return
    if args.in_process:
        print(json.dumps(in_process(Path(args.in_process))))
        return
    install_generators()
    with tempfile.TemporaryDirectory(prefix="earlywarn-api-") as temp:
        run_child(__file__, "--child", temp)
        steps = run_child(__file__, "--in-process", temp)
        if args.against:
            with checkout(args.against) as tree:
                measure(Path(temp), args.seconds, args.against, tree, steps)
        else:
            measure(Path(temp), args.seconds, None, None, steps)


if __name__ == "__main__":
    sys.exit(main())
