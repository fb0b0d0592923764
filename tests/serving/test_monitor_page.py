"""The monitoring page answers "does the model still fit, and what do I do?": the verdict
and its next step, features by name, checks not judged yet said so, the promised against
the matured precision, the backlog apart. Days are stored as the job stores them, in a
store of this module's own (the shared one's latest day is other tests' business)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.serving.access import Role, create_key
from earlywarn.serving.app import create_app
from earlywarn.serving.monitor.checks import Check
from earlywarn.serving.monitor.precision import compare, shortfall_check, waiting_checks
from earlywarn.serving.monitor.run import store_checks
from earlywarn.serving.monitor.verdict import verdict_of
from earlywarn.serving.scorer import Scorer
from earlywarn.serving.store import open_store
from earlywarn.serving.throttle import FailureThrottle
from earlywarn.serving.web.monitor_view import verdict_text
from earlywarn.settings import load_settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
DRIFTED, AGED, WAITING, EMPTY, OLD, LATEST = (dt.date(2030, 3, d) for d in (1, 2, 3, 4, 5, 6))
NOBODY = dt.date(2030, 2, 27)  # no open case at the day's end: the job's only score check


def drift(feature: str, value: float, status: str = "ok") -> Check:
    return Check("input_psi", feature, value, status, {"js_distance": 0.01, "reference": "x"})


def young_shift(target: str = "collective", needs: bool = True) -> Check:
    detail = {"measure": "share_flagged", "today": 0.02, "days": 3,
              "note": "too few earlier days to judge"}  # fmt: skip
    if needs:  # days stored before "waits_for" was written lack it
        detail |= {"waits_for": "earlier_days", "needs": 7}
    return Check("score_shift", f"share_flagged:{target}", None, "ok", detail)


def backlog(status: str, value: float) -> Check:
    detail = {"js_distance": 0.2, "reference": "x", "median_today": 212.0, "reference_p90": 400.0,
              "beyond_p90_today": 0.31, "beyond_p90_reference": 0.1}  # fmt: skip
    return Check("backlog_psi", "case_age_days", value, status, detail)


def fresh() -> list[Check]:
    return [
        drift("contacts_7d", 0.02),
        drift("max_group_size", 0.01),
        Check("newest_record_days", "contacts", 0.4, "ok", {}),
        Check("quarantine_share", "cases", 0.0, "ok", {"read": 10, "quarantined": 0}),
        Check("expected_precision", "collective", 0.41, "ok", {"estimate": True}),
    ]


def short_list() -> Check:  # 200 flags promised at 40%, 50 happened
    happened = np.arange(200) < 50
    return shortfall_check("collective@2030-01-20", compare(np.full(200, 0.4), happened), 0)


def test_the_verdict_of_a_day() -> None:
    assert verdict_of([]).state == "none"
    assert verdict_of([young_shift()]).state == "waiting"
    fits = verdict_of([*fresh(), young_shift()])
    assert (fits.state, fits.judged, [c.check for c in fits.waiting]) == (
        "fits",
        4,
        ["score_shift"],
    )
    watch = verdict_of([*fresh(), drift("visits_90d", 0.12, "warn")])
    assert watch.state == "watch" and [c.subject for c in watch.drivers] == ["visits_90d"]
    alert = drift("contacts_90d", 0.4, "alert")
    retrain = verdict_of([*fresh(), drift("visits_90d", 0.12, "warn"), alert])
    assert retrain.state == "retrain" and retrain.drivers == [alert]
    jump = Check("score_shift", "share_flagged:collective", 3.5, "alert", {"days": 20})
    moved = verdict_of([*fresh(), jump])  # the scores alone: a real rise is possible
    assert moved.state == "scores_moved" and moved.drivers == [jump]
    assert verdict_of([*fresh(), jump, alert]).state == "retrain"
    late = Check("newest_record_days", "contacts", 9.0, "alert", {})
    fix = verdict_of([*fresh(), alert, late])
    assert (fix.state, fix.drivers, fix.after) == ("fix_import", [late], [alert])
    shortfall = short_list()
    assert shortfall.status == "alert" and verdict_of([*fresh(), shortfall]).drivers == [shortfall]


def test_the_backlog_and_older_days_age_clocks_never_drive_the_verdict() -> None:
    aged = [backlog("alert", 0.4), drift("days_since_first_contact", 0.3, "alert")]
    found = verdict_of([*fresh(), *aged])
    assert found.state == "fits" and found.drivers == []
    assert {c.subject for c in found.backlog} == {"case_age_days", "days_since_first_contact"}


def test_the_next_steps_are_the_readmes_commands_and_name_the_checks() -> None:
    alert = drift("contacts_90d", 0.4, "alert")
    retrain = " ".join(verdict_text(verdict_of([*fresh(), alert]), DRIFTED, "zh"))
    assert "重新训练" in retrain and "输入漂移（PSI）：近90天来信来访次数" in retrain
    late = Check("newest_record_days", "contacts", 9.0, "alert", {})
    fix = " ".join(verdict_text(verdict_of([*fresh(), alert, late]), DRIFTED, "en"))
    assert "fix the import" in fix and "age of the newest record (days)" in fix
    assert "If input drift (PSI): contacts in the last 90 days still alert" in fix
    jump = Check("score_shift", "share_flagged:collective", 3.5, "alert", {"days": 20})
    moved = " ".join(verdict_text(verdict_of([*fresh(), jump]), DRIFTED, "zh"))
    assert "评分漂移（标准差）：预警比例 · 集体访风险" in moved and "先核对当日清单" in moved
    for text, command in (
        (retrain, "earlywarn retrain --data"),
        (fix, "earlywarn daily --source"),
        (moved, "earlywarn retrain --data"),
    ):
        assert command in text and command in README


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> sessionmaker[Session]:
    return open_store(load_settings(work_dir=tmp_path_factory.mktemp("monitor-page")))


@pytest.fixture(scope="module")
def browser(store: sessionmaker[Session]) -> Iterator[TestClient]:
    scorer = Scorer(load_settings(), None)  # the page reads the store only
    app = create_app(scorer, store, throttle=FailureThrottle(free_failures=10**9))
    with store.begin() as session:
        key = create_key(session, Role.ANALYST).token
        days = {
            DRIFTED: [*fresh(), drift("contacts_90d", 0.4, "alert"), young_shift(), short_list()],
            AGED: [*fresh(), backlog("alert", 0.4)],
            WAITING: [*fresh(), young_shift(),
                      *waiting_checks(("collective",), dt.date(2030, 1, 30), DRIFTED)],
            OLD: [*fresh(), drift("case_age_days", 0.14, "warn"), young_shift(needs=False),
                  Check("matured_precision", "collective@2030-02-01", 0.2, "ok", {"flagged": 9})],
            LATEST: [*fresh(), backlog("alert", 0.4)],
            NOBODY: [Check("scoring_population", "cases", 0.0, "alert", {"open_cases": 0}),
                     Check("newest_record_days", "contacts", 0.4, "ok", {})],
        }  # fmt: skip
        for day, checks in days.items():
            store_checks(session, day, checks, "test/1")
    client = TestClient(app, follow_redirects=False)
    client.post("/office/sign-in", data={"api_key": key})
    yield client


def section(page: str, name: str) -> str:
    found = re.search(rf'<section[^>]*id="{name}".*?</section>', page, re.S)
    assert found, name
    return found.group(0)


def row_of(table: str, text: str) -> str:
    return next(row for row in table.split("<tr") if text in row)


def test_a_drifted_day_says_retrain_names_features_and_compares_precision(
    browser: TestClient,
) -> None:
    page = browser.get("/office/monitor", params={"date": DRIFTED.isoformat()}).text
    verdict = section(page, "verdict")
    assert "重新训练" in verdict and "earlywarn retrain --data" in verdict
    assert "近90天来信来访次数" in verdict and "到期清单精确率低于承诺" in verdict
    drifted = row_of(section(page, "checks"), "近90天来信来访次数")
    assert '<small class="code" title="contacts_90d">contacts_90d</small>' in drifted
    assert "告警" in drifted
    young = row_of(section(page, "checks"), "评分漂移")
    assert "尚未判断" in young and "需要此前 28 天内至少 7 个已监测的日子，目前 3 个" in young
    assert "正常" not in young
    precision = row_of(section(page, "precision"), "集体访风险")
    for shown in ("40.0%", "25.0%", "15.0 个百分点", "200 (50)", "低于承诺，超出偶然波动",
                  "41.0%", "告警"):  # fmt: skip
        assert shown in precision, shown
    assert "预期精确率（估计）" in section(page, "measures")  # a measure: no status
    bounds = row_of(section(page, "thresholds"), "输入漂移（PSI）")  # on the page, not a file
    assert "0.1" in bounds and "0.25" in bounds
    assert "docs/monitoring.md" not in page


def test_the_english_page_says_it_in_english(browser: TestClient) -> None:
    browser.cookies.set("earlywarn_lang", "en", path="/office")
    try:
        page = browser.get("/office/monitor", params={"date": DRIFTED.isoformat()}).text
    finally:
        browser.cookies.set("earlywarn_lang", "zh", path="/office")
    assert "Next step: retrain" in section(page, "verdict")
    assert "contacts in the last 90 days" in section(page, "checks")
    young = row_of(section(page, "checks"), "score drift")
    assert (
        "not judged yet" in young and "needs 7 monitored days among the 28 before, has 3" in young
    )
    assert "below the promise, beyond chance" in section(page, "precision")


def test_the_backlog_is_shown_apart_and_does_not_alert_the_day(browser: TestClient) -> None:
    page = browser.get("/office/monitor").text  # the latest day: its backlog alerts
    assert 'id="monitor-alert"' not in page
    assert "模型仍然适用" in section(page, "verdict") and "积压" in section(page, "verdict")
    aged = section(page, "backlog")
    assert "登记以来天数" in aged and "212" in aged and "31.0% / 10.0%" in aged
    assert "case_age_days" not in section(page, "checks")
    latest = row_of(section(page, "days"), LATEST.isoformat())
    assert "正常" in latest and "告警" not in latest


def test_a_check_waiting_for_a_matured_list_says_when_it_matures(browser: TestClient) -> None:
    page = browser.get("/office/monitor", params={"date": WAITING.isoformat()}).text
    precision = row_of(section(page, "precision"), "集体访风险")
    assert "尚未判断" in precision and "2030年3月1日" in precision
    assert "尚未判断 2 项" in section(page, "verdict")


def test_a_day_without_checks_and_an_older_day_still_render(browser: TestClient) -> None:
    empty = browser.get("/office/monitor", params={"date": EMPTY.isoformat()})
    assert empty.status_code == 200 and "该日没有任何检查记录" in section(empty.text, "verdict")
    old = browser.get("/office/monitor", params={"date": OLD.isoformat()})
    assert old.status_code == 200
    assert "登记以来天数" in section(old.text, "backlog")  # an age clock stored as input drift
    assert "case_age_days" not in section(old.text, "checks")
    assert "目前 3 个" in row_of(section(old.text, "checks"), "评分漂移")
    assert "此日的记录未含比较" in section(old.text, "precision")
    assert "模型仍然适用" in section(old.text, "verdict")


def test_a_day_without_open_cases_is_an_import_alert(browser: TestClient) -> None:
    page = browser.get("/office/monitor", params={"date": NOBODY.isoformat()}).text
    verdict = section(page, "verdict")
    assert "修复数据导入" in verdict and "在办事项数" in verdict
    nobody = row_of(section(page, "days"), NOBODY.isoformat())
    assert "告警" in nobody and re.search(r'class="num">1</td></tr>', nobody)
