"""The office's page end to end in a real headless Chromium (Playwright over Debian's
Chromium): sign in, filter, open a case, review it, find it all in the audit log,
export Excel; a key of another county sees nothing of it."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.contract import Dataset
from earlywarn.models.registry import LoadedModels
from earlywarn.serving.access import Role, create_key
from earlywarn.serving.audit import audit_key, verify_chain
from earlywarn.serving.risk_list import build_risk_list
from earlywarn.serving.store import AuditRecord, RiskList, RiskListItem
from earlywarn.settings import Settings
from tests.serving.helpers import CHROMIUM, CHROMIUM_FLAGS, running_service

pytestmark = pytest.mark.slow
DAYS = [dt.date(2025, 10, 17), dt.date(2025, 10, 24), dt.date(2025, 10, 31)]
COUNTY, OTHER = "330211", "330212"


@pytest.fixture(scope="module")
def office(
    settings: Settings, sessions: sessionmaker[Session], sample: Dataset, champions: LoadedModels
) -> Iterator[dict[str, Any]]:
    for day in DAYS:
        build_risk_list(settings, sample, day, sessions, champions)
    with sessions.begin() as db:
        keys = {
            "office": create_key(db, Role.OFFICE, COUNTY, label="page test").token,
            "other": create_key(db, Role.OFFICE, OTHER, label="page test").token,
            "analyst": create_key(db, Role.ANALYST, label="page test").token,
            "case_system": create_key(db, Role.CASE_SYSTEM, label="page test").token,
        }
    with running_service(settings) as base:
        yield {"base": base, "keys": keys}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def _signed_in(browser: Browser, base: str, token: str) -> tuple[Page, list[str]]:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    addresses: list[str] = []
    page.on("request", lambda request: addresses.append(request.url))
    page.goto(f"{base}/office/list")
    assert "/office/sign-in?next=%2Foffice%2Flist" in page.url  # and back to the list after
    page.fill("#api_key", token)
    page.click("button[type=submit]")
    page.wait_for_url("**/office/list")
    return page, addresses


def _high_case_of(sessions: sessionmaker[Session], county: str) -> str:
    with sessions() as db:
        header = db.scalars(select(RiskList).where(RiskList.list_date == DAYS[-1])).one()
        return db.scalars(
            select(RiskListItem.case_id)
            .where(RiskListItem.list_id == header.id, RiskListItem.county_code == county)
            .where(RiskListItem.risk_band == "high")
            .order_by(RiskListItem.rank)
        ).first() or pytest.fail(f"no high case in county {county}")


def test_sign_in_filter_open_review_audit_export(
    office: dict[str, Any],
    browser: Browser,
    sessions: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
) -> None:
    base, token = office["base"], office["keys"]["office"]
    page, addresses = _signed_in(browser, base, token)
    assert "每日风险清单" in page.content()  # Chinese first

    page.select_option("#band", "high")
    page.select_option("#flag", "yes")
    page.click("#apply")
    page.wait_for_load_state()
    rows = page.locator("tbody tr[data-case]")  # a case each (the capacity line is not)
    assert rows.count() > 0
    assert rows.count() == page.locator("tbody tr.band-high").count()

    case_id = rows.first.get_attribute("data-case")
    assert case_id
    rows.first.locator("a").first.click()
    page.wait_for_url(f"**/office/case?id={case_id}*")
    reviews_before = page.locator("#past-reviews li").count()  # other tests may review it too
    assert page.locator("#timeline svg circle.contact").count() > 0
    assert page.locator("#contributions svg rect.contribution").count() > 0
    assert page.locator("#history svg").count() == 1

    page.check("input[value=action_taken]")
    page.select_option("#step", "senior_owner")
    page.click("#submit-review")
    page.wait_for_url("**saved=1*")
    assert page.locator("#past-reviews li").count() == reviews_before + 1
    assert "已采取措施" in page.locator("#past-reviews li").last.inner_text()
    page.click("#back-to-list")  # back to the list as it was filtered
    page.wait_for_url("**/office/list?*flag=yes*")

    page.goto(f"{base}/office/list?date={DAYS[-1]}&reviewed=yes")
    reviewed = [r.get_attribute("data-case") for r in page.locator("tbody tr[data-case]").all()]
    assert case_id in reviewed
    assert "已采取措施" in page.locator(f"tr[data-case='{case_id}'] td.review").inner_text()
    page.goto(f"{base}/office/list?date={DAYS[-1]}&reviewed=no")
    assert case_id not in page.content()

    page.goto(f"{base}/office/list?date={DAYS[-1]}&band=high")
    total_text = page.locator("#count").inner_text()
    with page.expect_download() as download:
        page.click("#export-xlsx")
    saved = tmp_path / "list.xlsx"
    download.value.save_as(saved)
    sheet = openpyxl.load_workbook(saved).active
    assert sheet is not None
    table = list(sheet.iter_rows(values_only=True))
    assert str(table[0][0]).startswith(f"{COUNTY} 每日风险清单台账")  # the ledger's title
    header, rows = list(table[2]), table[3:]
    assert header[0] == "排名"
    assert f"{len(rows):,}" in total_text  # every filtered row, not one page
    assert {row[header.index("县区")] for row in rows} == {COUNTY}
    assert {row[header.index("风险等级")] for row in rows} == {"高"}
    reviews = {row[header.index("事项编号")]: row[header.index("核查状态")] for row in rows}
    assert reviews[case_id] == "已采取措施"

    assert not any(token in address for address in addresses)  # never in an address
    assert all(address.startswith(base) for address in addresses)  # nothing from outside
    prefix = f"key:{token[:10]}"
    with sessions() as db:
        actions = {
            (record.action, record.target)
            for record in db.scalars(select(AuditRecord).where(AuditRecord.actor == prefix))
        }
        assert verify_chain(db, audit_key(settings, db)).ok
    assert ("review", f"{DAYS[-1]}/{case_id}") in actions
    assert ("web.case.view", f"{DAYS[-1]}/{case_id}") in actions
    assert any(action == "web.list.view" for action, _ in actions)
    assert any(action == "risk_list.export" for action, _ in actions)
    page.context.close()


def test_another_county_cannot_see_the_case(
    office: dict[str, Any], browser: Browser, sessions: sessionmaker[Session]
) -> None:
    case_id = _high_case_of(sessions, COUNTY)
    page, _ = _signed_in(browser, office["base"], office["keys"]["other"])
    assert case_id not in page.content()
    answer = page.goto(f"{office['base']}/office/case?id={case_id}&date={DAYS[-1]}")
    assert answer is not None and answer.status == 404
    assert "未找到该事项" in page.content()
    page.goto(f"{office['base']}/office/list?county={COUNTY}")  # asking for it changes nothing
    assert case_id not in page.content()
    page.context.close()


def test_the_list_on_a_phone_is_a_card_per_case(office: dict[str, Any], browser: Browser) -> None:
    """At 390 px the table wrapped its reasons one character a line; each case is now a
    card whose cells are labelled lines, and nothing runs off the screen."""
    page, _ = _signed_in(browser, office["base"], office["keys"]["office"])
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    card = page.locator("tbody tr[data-case]").first
    reasons = card.locator("td[data-label]").nth(6)
    box = reasons.bounding_box()
    assert box is not None and box["width"] > 300  # the whole card's width, not a sliver
    label = page.evaluate(
        "getComputedStyle(document.querySelector('tbody tr[data-case] td'), '::before').content"
    )
    assert "排名" in label
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.context.close()


def test_trends_and_the_english_switch(office: dict[str, Any], browser: Browser) -> None:
    page, _ = _signed_in(browser, office["base"], office["keys"]["office"])
    page.click("text=趋势与成效")
    page.wait_for_url("**/office/trends")
    assert page.locator("#flags svg polyline").count() == 2
    assert "2025年10月31日" in page.content()
    assert page.locator("#precision table").count() == 1  # the sample's labels have matured
    flagged = page.locator("#precision tbody tr").first.locator("td").nth(1).inner_text()
    page.select_option("#category", "land_requisition")
    page.click("#apply")
    page.wait_for_url("**category=land_requisition*")
    assert "征地补偿" in page.locator("#flags h2").inner_text()
    one_category = page.locator("#precision tbody tr").first.locator("td").nth(1).inner_text()
    assert 0 < int(one_category.replace(",", "")) < int(flagged.replace(",", ""))
    page.click("a.lang")
    page.wait_for_url("**/office/trends?category=land_requisition")  # back where it was
    assert "Trends and track record" in page.content()
    assert "2025-10-31" in page.content()
    page.keyboard.press("Tab")  # the skip link comes first, for keyboard users
    assert page.evaluate("document.activeElement.className") == "skip"
    page.context.close()


def test_sign_in_rules(
    settings: Settings, sessions: sessionmaker[Session], office: dict[str, Any]
) -> None:
    from earlywarn.serving.app import create_app
    from earlywarn.serving.scorer import Scorer

    client = TestClient(create_app(Scorer(settings, None), sessions), follow_redirects=False)
    assert client.get("/office/list").headers["location"] == "/office/sign-in?next=%2Foffice%2Flist"
    refused = client.post("/office/sign-in", data={"api_key": "ew_not-a-key"})
    assert refused.status_code == 401 and "密钥无效" in refused.text
    wrong = client.post("/office/sign-in", data={"api_key": office["keys"]["case_system"]})
    assert wrong.status_code == 401 and "不能查看清单" in wrong.text
    accepted = client.post("/office/sign-in", data={"api_key": office["keys"]["analyst"]})
    assert accepted.status_code == 303
    cookie = accepted.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    case_id = _high_case_of(sessions, COUNTY)
    page = client.get("/office/case", params={"id": case_id, "date": str(DAYS[-1])})
    assert page.status_code == 200 and "submit-review" not in page.text  # analysts do not review
    forged = client.post(
        "/office/case/review",
        data={
            "case_id": case_id,
            "date": str(DAYS[-1]),
            "decision": "acknowledged",
            "csrf": "forged",
        },
    )
    assert forged.status_code == 403
    for bad in ("not-a-date", "2025-02-30"):
        assert client.get("/office/list/export", params={"date": bad}).status_code == 404
        assert client.get("/office/case", params={"id": case_id, "date": bad}).status_code == 404
    xlsx = client.get("/office/list/export", params={"date": str(DAYS[-1]), "format": "xlsx"})
    assert openpyxl.load_workbook(io.BytesIO(xlsx.content)).active is not None


def test_the_monitoring_page_for_an_analyst(
    office: dict[str, Any],
    browser: Browser,
    settings: Settings,
    sessions: sessionmaker[Session],
    sample: Dataset,
    champions: LoadedModels,
) -> None:
    from earlywarn.serving.monitor.run import monitor_day

    for day in DAYS:
        monitor_day(settings, sample, day, sessions, champions)
    page, addresses = _signed_in(browser, office["base"], office["keys"]["analyst"])
    page.click("nav >> text=模型监测")
    page.wait_for_url("**/office/monitor")
    assert page.locator("h1").inner_text().startswith("模型监测 · 2025年10月31日")
    rows = page.locator("#checks tbody tr")
    assert rows.count() > 40  # every feature's drift, the scores, data quality
    assert page.locator("#days tbody tr").count() == len(DAYS)
    page.click("#days tbody tr:last-child a")  # the earliest day
    page.wait_for_url("**date=2025-10-17")
    assert "2025年10月17日" in page.locator("h1").inner_text()
    assert all(a.startswith(office["base"]) for a in addresses)  # nothing from elsewhere
    office_page, _ = _signed_in(browser, office["base"], office["keys"]["office"])
    assert office_page.locator("nav >> text=模型监测").count() == 0
