"""A demonstration office on the shipped sample: models, ten weekly lists, a few
reviews, an office key and the running service; then the three pages in Chromium
and the day's ledger as LibreOffice prints it (first page).

    python scripts/office_demo.py [--out docs/screenshots]     (make screenshots)

Used by bench/bench_page.py for the same workspace. Everything goes through the
``earlywarn`` command line, as an analyst would run it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
COUNTY = "330211"
LAST_DAY = dt.date(2025, 10, 31)
WEEKS = 10
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def earlywarn(work: Path, *args: str) -> str:
    env = os.environ | {"EARLYWARN_WORK_DIR": str(work), "EARLYWARN_LOG_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, "-m", "earlywarn", *args], env=env, check=True,
                          capture_output=True, text=True)  # fmt: skip
    return done.stdout


def prepare(work: Path) -> str:
    """Train and promote on the sample, build the weekly lists, return an office key."""
    earlywarn(work, "train", "--data", str(SAMPLE))
    for target in ("escalation", "collective"):
        earlywarn(work, "promote", "--target", target, "--version", "1", "--force",
                  "--reason", "demonstration workspace")  # fmt: skip
    for week in range(WEEKS - 1, -1, -1):
        day = LAST_DAY - dt.timedelta(days=7 * week)
        earlywarn(work, "risk-list", "--data", str(SAMPLE), "--date", day.isoformat())
        earlywarn(work, "monitor", "--data", str(SAMPLE), "--date", day.isoformat())
    out = earlywarn(work, "keys", "create", "--role", "office", "--county", COUNTY)
    return next(line for line in out.splitlines() if line.startswith("ew_"))


def analyst_key(work: Path) -> str:
    out = earlywarn(work, "keys", "create", "--role", "analyst")
    return next(line for line in out.splitlines() if line.startswith("ew_"))


@contextmanager
def service(work: Path, port: int = 8787) -> Iterator[str]:
    env = os.environ | {"EARLYWARN_WORK_DIR": str(work), "EARLYWARN_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "earlywarn", "serve", "--data", str(SAMPLE),
               "--port", str(port)]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            time.sleep(0.5)
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                continue
        else:
            raise TimeoutError("the service did not become ready")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def sign_in(page: object, base: str, key: str) -> None:
    page.goto(f"{base}/office/sign-in")  # type: ignore[attr-defined]
    page.fill("#api_key", key)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url("**/office/list")  # type: ignore[attr-defined]


def screenshots(base: str, key: str, analyst_token: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        sign_in(page, base, key)
        # Two reviews, so that the list and the trends show what reviewing looks like.
        for row in (1, 2):
            page.goto(f"{base}/office/list?band=high")
            page.locator("tbody tr").nth(row).locator("a").first.click()
            page.check("input[value=acknowledged]")
            page.click("#submit-review")
            page.wait_for_url("**saved=1*")
        page.goto(f"{base}/office/list?band=high")
        page.screenshot(path=str(out / "list.png"))
        page.locator("tbody tr").first.locator("a").first.click()
        page.wait_for_load_state()
        page.screenshot(path=str(out / "case.png"), full_page=True)
        page.goto(f"{base}/office/trends")
        page.screenshot(path=str(out / "trends.png"), full_page=True)
        analyst = browser.new_page(viewport={"width": 1280, "height": 860})
        sign_in(analyst, base, analyst_token)
        analyst.goto(f"{base}/office/monitor")
        analyst.screenshot(path=str(out / "monitor.png"))
        browser.close()


def ledger_image(work: Path, out: Path) -> None:
    """The last list's ledger (XLSX), printed by LibreOffice to PDF, first page as PNG."""
    ledger = work / "risk-lists" / LAST_DAY.isoformat() / "risk-list.xlsx"
    with tempfile.TemporaryDirectory(prefix="earlywarn-ledger-") as temp:
        profile = f"-env:UserInstallation=file://{temp}/profile"  # no shared profile lock
        subprocess.run(["soffice", profile, "--headless", "--convert-to", "pdf", "--outdir",
                        temp, str(ledger)], check=True, capture_output=True)  # fmt: skip
        pdf = Path(temp) / "risk-list.pdf"
        subprocess.run(["pdftoppm", "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile",
                        str(pdf), str(out / "ledger")], check=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="earlywarn-demo-") as temp:
        key = prepare(Path(temp))
        with service(Path(temp)) as base:
            screenshots(base, key, analyst_key(Path(temp)), args.out)
        ledger_image(Path(temp), args.out)
    print(f"wrote {args.out}/list.png, case.png, trends.png, monitor.png, ledger.png")


if __name__ == "__main__":
    main()
