"""The office page: today's list of 200 cases loaded in a real Chromium on loopback.

The demonstration workspace of ``scripts/office_demo.py`` (the sample, ten weekly
lists, an office key); the list page at 200 rows per page is loaded 30 times
after a warm-up, and its navigation timing read from the browser (request to
the ``load`` event: server work, audit record, transfer, parsing, layout). Beside
it, the very same HTML saved and served as a static file by ``http.server``: the
ratio is the cost of our page over a page that costs nothing to make.
Target: under one second.

    python bench/bench_page.py [--loads 30]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from office_demo import CHROMIUM, CHROMIUM_FLAGS, prepare, service, sign_in

STATIC = Path(__file__).resolve().parents[1] / "src" / "earlywarn" / "serving" / "web" / "static"
TIMING = """() => { const n = performance.getEntriesByType('navigation')[0];
  return {load: n.loadEventEnd - n.startTime, response: n.responseEnd - n.startTime}; }"""


def measure(page: object, url: str, loads: int) -> dict[str, float]:
    page.goto(url)  # type: ignore[attr-defined]  # warm-up
    totals, responses = [], []
    for _ in range(loads):
        page.goto(url, wait_until="load")  # type: ignore[attr-defined]
        timing = page.evaluate(TIMING)  # type: ignore[attr-defined]
        totals.append(timing["load"])
        responses.append(timing["response"])
    totals.sort()
    return {
        "p50_ms": statistics.median(totals),
        "p95_ms": totals[int(len(totals) * 0.95) - 1],
        "max_ms": totals[-1],
        "response_p50_ms": statistics.median(responses),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loads", type=int, default=30)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="earlywarn-page-") as temp:
        work = Path(temp)
        key = prepare(work)
        with service(work) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            sign_in(page, base, key)
            url = f"{base}/office/list?size=200"
            ours = measure(page, url, args.loads)
            rows = page.locator("tbody tr").count()
            static = work / "static-copy"
            (static / "office").mkdir(parents=True)
            (static / "list.html").write_text(page.content(), encoding="utf-8")
            shutil.copytree(STATIC, static / "office" / "static")
            server = subprocess.Popen(
                [sys.executable, "-m", "http.server", "8793", "--bind", "127.0.0.1"],
                cwd=static, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            try:
                time.sleep(1.0)
                bare = measure(page, "http://127.0.0.1:8793/list.html", args.loads)
            finally:
                server.terminate()
            browser.close()
    print(f"The list page with {rows} cases, {args.loads} loads in headless Chromium on loopback "
          "(navigation start to the load event).\n")  # fmt: skip
    print("| page | p50 | p95 | max | first byte to last byte, p50 |")
    print("|---|---:|---:|---:|---:|")
    for name, figures in (("earlywarn /office/list", ours), ("same HTML, static file", bare)):
        print(f"| {name} | {figures['p50_ms']:.0f} ms | {figures['p95_ms']:.0f} ms | "
              f"{figures['max_ms']:.0f} ms | {figures['response_p50_ms']:.0f} ms |")  # fmt: skip
    verdict = "met" if ours["p95_ms"] < 1000 else "NOT met"
    print(f"\nRatio earlywarn / static: p50 {ours['p50_ms'] / bare['p50_ms']:.1f}x. "
          f"Target: under 1 s (p95 {ours['p95_ms']:.0f} ms): {verdict}.")  # fmt: skip


if __name__ == "__main__":
    main()
