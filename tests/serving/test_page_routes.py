"""The office page's routes in-process (no browser): sign in, the day's list, a case, a review.

The browser tests (``test_office_page.py``) drive the same routes in Chromium; these
run in the fast suite on the small test models.
"""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.serving.store import AuditRecord, Review
from tests.serving.conftest import DAY

CASE_LINK = re.compile(r'href="/office/case\?id=([^"&]+)&amp;date=')


def _signed_in(client: TestClient, token: str) -> TestClient:
    browser = TestClient(client.app, follow_redirects=False)
    answer = browser.post("/office/sign-in", data={"api_key": token})
    assert answer.status_code == 303 and answer.headers["location"] == "/office/list"
    return browser


def test_list_case_and_review_through_the_page(
    client: TestClient, keys: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    assert TestClient(client.app, follow_redirects=False).get("/office/list").status_code == 303
    browser = _signed_in(client, keys["office"])
    listed = browser.get("/office/list", params={"date": DAY.isoformat(), "band": "high"})
    assert listed.status_code == 200
    case_ids = CASE_LINK.findall(listed.text)
    assert case_ids, "no high case linked from the list"
    page = browser.get("/office/case", params={"id": case_ids[0], "date": DAY.isoformat()})
    assert page.status_code == 200 and case_ids[0] in page.text
    # The history in the office's words: channels and handling steps named in Chinese.
    history = page.text[page.text.index("<tbody>") :]
    assert not re.search(
        r"<td>(visit|letter|online|phone|assigned|accepted|responded)</td>", history
    )
    assert re.search(r"<td>(来访|来信|网上|来电|电话)[^<]*</td>", history)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    saved = browser.post(
        "/office/case/review",
        data={
            "case_id": case_ids[0],
            "date": DAY.isoformat(),
            "decision": "acknowledged",
            "csrf": csrf.group(1),
        },
    )
    assert saved.status_code == 303
    with sessions() as session:
        reviews = session.scalars(select(Review).where(Review.case_id == case_ids[0])).all()
        actions = set(session.scalars(select(AuditRecord.action)))
    assert [r.decision for r in reviews][-1:] == ["acknowledged"]
    assert {"web.sign_in", "web.list.view", "web.case.view", "review"} <= actions
    old = browser.get(f"/office/cases/{case_ids[0]}", params={"date": DAY.isoformat()})
    assert old.status_code == 303 and old.headers["location"].startswith("/office/case?id=")


def test_another_county_gets_not_found(client: TestClient, keys: dict[str, str]) -> None:
    mine = _signed_in(client, keys["office"])
    listed = mine.get("/office/list", params={"date": DAY.isoformat()})
    case_id = CASE_LINK.findall(listed.text)[0]
    other = _signed_in(client, keys["other_office"])
    answer = other.get("/office/case", params={"id": case_id, "date": DAY.isoformat()})
    assert answer.status_code == 404


def test_page_refusals_are_audited(
    client: TestClient, keys: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    """A failed sign-in, another county's case, a forged form: each leaves a record."""
    with sessions() as session:
        before = session.scalar(select(AuditRecord.id).order_by(AuditRecord.id.desc()).limit(1))
    stranger = TestClient(client.app, follow_redirects=False)
    assert stranger.post("/office/sign-in", data={"api_key": "ew_wrong"}).status_code == 401
    mine = _signed_in(client, keys["office"])
    case_id = CASE_LINK.findall(mine.get("/office/list", params={"date": DAY.isoformat()}).text)[0]
    other = _signed_in(client, keys["other_office"])
    assert (
        other.get("/office/case", params={"id": case_id, "date": DAY.isoformat()}).status_code
        == 404
    )
    forged = mine.post(
        "/office/case/review",
        data={"case_id": case_id, "date": DAY.isoformat(), "decision": "acknowledged", "csrf": "x"},
    )
    assert forged.status_code == 403
    with sessions() as session:
        results = {
            (r.actor == "anonymous", r.action, r.result)
            for r in session.scalars(select(AuditRecord).where(AuditRecord.id > (before or 0)))
        }
    assert (True, "web.sign_in", "refused 401 bad_key") in results
    assert (False, "web.case.view", "refused 404") in results
    assert (False, "review", "refused 403") in results


def test_a_sign_in_form_posted_from_another_site_is_refused(
    client: TestClient, keys: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    """Login CSRF: another site's form must not sign a reviewer's browser in with its own
    key (the reviews that follow would be recorded under that key)."""
    browser = TestClient(client.app, follow_redirects=False)  # its Host: testserver
    for header in (
        {"Origin": "http://evil.example"},
        {"Origin": "null"},  # a sandboxed frame
        {"Referer": "http://evil.example/page"},
    ):
        answer = browser.post("/office/sign-in", data={"api_key": keys["office"]}, headers=header)
        assert answer.status_code == 403 and "earlywarn_session" not in answer.cookies, header
        assert "只能从本系统的登录页登录" in answer.text
    own = {"Origin": "http://testserver", "Referer": "http://testserver/office/sign-in"}
    assert (
        browser.post("/office/sign-in", data={"api_key": keys["office"]}, headers=own).status_code
        == 303
    )
    with sessions() as session:
        refused = session.scalars(
            select(AuditRecord).where(AuditRecord.result == "refused 403 cross-site form")
        ).all()
    assert len(refused) >= 3


def test_a_review_keeps_only_the_step_taken_and_says_who_and_when(
    client: TestClient, keys: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    browser = _signed_in(client, keys["office"])
    listed = browser.get("/office/list", params={"date": DAY.isoformat(), "band": "high"})
    case_id = CASE_LINK.findall(listed.text)[-1]
    address = {"id": case_id, "date": DAY.isoformat()}

    def review(**fields: str) -> Response:
        page = browser.get("/office/case", params=address)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        form = {"case_id": case_id, "date": DAY.isoformat(), "csrf": csrf.group(1)} | fields
        return browser.post("/office/case/review", data=form)

    # The form sends its preselected step with every decision: kept only with an action.
    assert review(decision="acknowledged", step="senior_owner").status_code == 303
    assert review(decision="action_taken", step="senior_owner").status_code == 303
    refused = review(decision="action_taken", step="")
    assert refused.status_code == 422 and 'id="past-reviews"' in refused.text  # still shown
    # What was entered stays: the form came back as 已知悉 without the reason, and one
    # more click recorded that (a reviewer's report).
    dismissed = review(decision="dismissed", reason="")
    assert dismissed.status_code == 422
    assert re.search(r'value="dismissed" required checked', dismissed.text)
    assert not re.search(r'value="acknowledged" required checked', dismissed.text)
    kept = review(decision="action_taken", step="", reason="已做工作")
    assert kept.status_code == 422 and ">已做工作</textarea>" in kept.text
    fresh = browser.get("/office/case", params=address).text
    assert "required checked" not in fresh  # nothing is decided for the reviewer
    with sessions() as session:
        stored = session.scalars(
            select(Review).where(Review.case_id == case_id).order_by(Review.id)
        ).all()
    assert [(r.decision, r.step) for r in stored][-2:] == [
        ("acknowledged", None),
        ("action_taken", "senior_owner"),
    ]
    page = browser.get("/office/case", params=address).text
    past = page[page.index('id="past-reviews"') :].split("</ul>")[0]
    assert "UTC" not in past and past.count("北京时间") >= 2
    assert past.count("信访办 " + keys["office"][:10]) >= 2  # the key's role and prefix


def test_back_to_the_list_keeps_its_filters_sorting_and_page(
    client: TestClient, keys: dict[str, str]
) -> None:
    browser = _signed_in(client, keys["office"])
    asked = {"date": DAY.isoformat(), "band": "high", "sort": "collective", "size": "10"}
    listed = browser.get("/office/list", params=asked)
    link = re.search(r'href="(/office/case\?id=[^"]+)"', listed.text)
    assert link is not None and "&amp;back=" in link.group(1)
    page = browser.get(html.unescape(link.group(1)))
    back = re.search(r'href="([^"]+)" id="back-to-list"', page.text)
    assert back is not None
    assert html.unescape(back.group(1)) == (
        f"/office/list?date={DAY.isoformat()}&band=high&sort=collective&size=10"
    )
    # Only the list's own parameters travel back: nothing leads anywhere else.
    case_id = CASE_LINK.findall(listed.text)[0]
    odd = browser.get(
        "/office/case",
        params={"id": case_id, "date": DAY.isoformat(), "back": "next=//evil.example&band=low"},
    )
    assert f'href="/office/list?date={DAY.isoformat()}&amp;band=low" id="back-to-list"' in odd.text


def test_the_list_marks_todays_work_and_says_when_it_is_old(
    client: TestClient, keys: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    from earlywarn.serving.store import RiskList

    browser = _signed_in(client, keys["analyst"])
    page = browser.get("/office/list", params={"date": DAY.isoformat(), "size": "200"}).text
    capacity = int(re.search(r"处理能力：每天 (\d+) 件", page).group(1))  # type: ignore[union-attr]
    assert capacity >= 50  # max(2% of the sample's population, 50)
    with sessions.begin() as session:  # the capacity the list was made with is kept
        header = session.scalars(select(RiskList).where(RiskList.list_date == DAY)).one()
        assert header.capacity == capacity
    cell = '<td class="short" data-label="排名">'
    ranks = [int(r) for r in re.findall(rf'data-case="[^"]+">\s*{cell}(\d+)', page)]
    marked = re.findall(rf'data-case="[^"]+">\s*{cell}(\d+) <span class="flag today-mark">', page)
    assert len(ranks) > capacity
    assert [int(r) for r in marked] == [r for r in ranks if r <= capacity]
    line = page.index('id="capacity-line"')
    assert page.rfind(f"{cell}{capacity} <span", 0, line) > 0  # after the last of today's rows
    assert f"{cell}{capacity + 1}</td>" in page[line:]
    high = len(re.findall(r'<tr class="band-high', page))  # the analyst sees every county
    assert ('id="over-capacity"' in page) == (high > capacity)
    assert 'id="list-age"' in page and "天前的清单" in page  # the sample's list is years old
    # A list is read with its own capacity, not the setting of the day it is read.
    try:
        with sessions.begin() as session:
            session.scalars(select(RiskList).where(RiskList.list_date == DAY)).one().capacity = 7
        page = browser.get("/office/list", params={"date": DAY.isoformat()}).text
        marked = re.findall(rf"{cell}(\d+) <span class=\"flag today-mark\">", page)
        assert "处理能力：每天 7 件" in page and [int(r) for r in marked] == list(range(1, 8))
    finally:
        with sessions.begin() as session:
            session.scalars(
                select(RiskList).where(RiskList.list_date == DAY)
            ).one().capacity = capacity


def test_days_since_the_last_contact_are_whole_days_as_in_the_ledger() -> None:
    from earlywarn.serving.web.i18n import whole_days

    assert [whole_days(d) for d in (22.9, 0.4, 1234.0, None)] == ["22", "0", "1,234", "-"]


def test_a_bar_of_what_moved_the_score_names_the_cases_value() -> None:
    from earlywarn.models.reasons import Reason
    from earlywarn.serving.web.views import bar_label

    assert bar_label(Reason("closed", 0.0, 0.69), "zh") == "已办结：否"
    assert bar_label(Reason("closed", 1.0, -0.2), "en") == "closed: yes"
    assert bar_label(Reason("days_since_last_action", 12.0, 0.1), "zh").endswith("：12")
    assert bar_label(Reason("days_since_last_action", None, 0.1), "en").endswith(": -")
    # Codes by their names, days counted down as the list's column counts them (a
    # reviewer's report: "事项类别：veterans_resettlement", "最近答复结果：2", 5 against 4).
    assert (
        bar_label(Reason("category", "veterans_resettlement", 0.1), "zh")
        == "事项类别：退役军人安置"
    )
    assert bar_label(Reason("last_answer_outcome", 2.0, 0.1), "zh").endswith("：部分支持")
    assert bar_label(Reason("review_stage", 3.0, 0.1), "en").endswith(": re-review requested")
    assert bar_label(Reason("days_since_last_contact", 4.7, 0.1), "zh").endswith("：4")


def test_the_list_says_what_it_ignored_and_records_what_it_showed(
    client: TestClient, keys: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    """band=purple was answered as if unasked, a mistyped date as "no list"; the audit
    recorded the page asked for (page=99999), not the page shown, and no filters."""
    browser = _signed_in(client, keys["analyst"])
    odd = browser.get("/office/list", params={"date": DAY.isoformat(), "band": "purple"}).text
    assert "以下筛选条件无法识别，已忽略：band=purple" in odd
    typo = browser.get("/office/list", params={"date": "2025-13-01"})
    assert typo.status_code == 200 and "日期“2025-13-01”无法识别，显示最新清单。" in typo.text
    asked = {"date": DAY.isoformat(), "band": "high", "page": "99999"}
    shown = browser.get("/office/list", params=asked).text
    pages = int(re.search(r"第 \d+ / (\d+) 页", shown).group(1))  # type: ignore[union-attr]

    def last_view() -> str | None:
        with sessions() as session:
            return session.scalars(
                select(AuditRecord.target)
                .where(AuditRecord.action == "web.list.view")
                .order_by(AuditRecord.id.desc())
            ).first()

    assert last_view() == f"{DAY} page {pages} size 100 band=high"
    assert f"没有第 99999 页（共 {pages} 页），显示最后一页。" in shown
    sized = browser.get("/office/list", params={"date": DAY.isoformat(), "size": "75"}).text
    assert '<option value="75" selected>75</option>' in sized  # the size served, chosen
    browser.get("/office/list", params={"date": DAY.isoformat(), "band": "purple", "size": "50"})
    assert last_view() == f"{DAY} page 1 size 50"  # band=purple was ignored, not applied
    # An address edited by hand: answered with what is shown, not refused 422.
    edited = browser.get("/office/list", params={"date": DAY.isoformat(), "page": "0",
                                                 "size": "1000"})  # fmt: skip
    assert edited.status_code == 200
    assert "没有第 0 页，显示第一页。" in edited.text
    assert "每页条数须在 1 至 200 之间（请求的是 1000），按 200 条显示。" in edited.text
    assert last_view() == f"{DAY} page 1 size 200"
    # No list that day: the picker shows the day asked for, not the newest list's.
    empty_day = browser.get("/office/list", params={"date": "2020-01-02"}).text
    assert re.search(r'<option value="2020-01-02" selected>[^<]*（无清单）</option>', empty_day)
    nearest = re.findall(r'class="nearest-list" href="/office/list\?[^"]*date=([\d-]+)"', empty_day)
    assert nearest and all(day > "2020-01-02" for day in nearest)  # the first list after it
    assert 'value="land_requisition"' in empty_day  # the filters stay to carry over
    # Nothing in a filter: said as the filter's, not as an empty list.
    nothing = browser.get(
        "/office/list", params={"date": DAY.isoformat(), "township": "nowhere"}
    ).text
    assert 'id="no-rows">没有符合筛选条件的事项。' in nothing


def test_the_change_column_names_the_list_it_compares_with() -> None:
    import json

    from earlywarn.serving.store import RiskListItem
    from earlywarn.serving.web.views import compared_with

    since = json.dumps({"since": "2025-12-20"})
    items = [
        RiskListItem(changes="{}", risk_band="low"),
        RiskListItem(changes=since, risk_band="high"),
    ]
    assert compared_with(items, "zh") == "与2025年12月20日清单相比"
    assert compared_with(items[:1], "en") is None  # low rows only: no change column to read
    first = [RiskListItem(changes="{}", risk_band="high")]  # no earlier list: said
    assert compared_with(first, "zh") == "无上期清单可比较（生成时尚无更早的清单）"


def test_an_analysts_county_export_is_titled_with_its_county(
    client: TestClient, keys: dict[str, str]
) -> None:
    import io

    import openpyxl

    browser = _signed_in(client, keys["analyst"])
    params = {"date": DAY.isoformat(), "format": "xlsx", "county": "330211"}
    answer = browser.get("/office/list/export", params=params)
    assert answer.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).worksheets[0]
    assert str(sheet["A1"].value).startswith("330211 ")  # not 全部县区
    assert (
        f'filename="risk-list-{DAY.isoformat()}-330211.xlsx"'
        in answer.headers["content-disposition"]
    )
    unfiltered = browser.get("/office/list/export", params={**params, "county": ""})
    whole = openpyxl.load_workbook(io.BytesIO(unfiltered.content)).worksheets[0]
    assert str(whole["A1"].value).startswith("全部县区 ")
    assert "筛选" not in str(whole["A2"].value)
    assert f'"risk-list-{DAY.isoformat()}.xlsx"' in unfiltered.headers["content-disposition"]


def test_a_filtered_export_says_so_in_its_subtitle_and_file_name(
    client: TestClient, keys: dict[str, str]
) -> None:
    """A reviewer exported the high band of one township to forward it: the file was
    named and titled as the whole day's list."""
    import io

    import openpyxl

    browser = _signed_in(client, keys["office"])
    params = {"date": DAY.isoformat(), "format": "xlsx", "band": "high", "reviewed": "no"}
    answer = browser.get("/office/list/export", params=params)
    assert answer.status_code == 200
    assert (
        f'"risk-list-{DAY.isoformat()}-330211-filtered.xlsx"'
        in answer.headers["content-disposition"]
    )
    subtitle = str(openpyxl.load_workbook(io.BytesIO(answer.content)).worksheets[0]["A2"].value)
    assert subtitle.endswith("筛选：风险等级 高，未核查"), subtitle
    browser.cookies.set("earlywarn_lang", "en")
    english = browser.get("/office/list/export", params=params)
    subtitle = str(openpyxl.load_workbook(io.BytesIO(english.content)).worksheets[0]["A2"].value)
    assert subtitle.endswith("filtered: band high, not reviewed"), subtitle


def test_a_review_on_an_earlier_list_is_carried_to_the_next(
    client: TestClient, keys: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    """A case reviewed yesterday and listed again today read "not reviewed", and a review
    on an old list was taken without a word about the newer one."""
    import datetime as dt

    from earlywarn.serving.store import ApiKey, RiskList

    browser = _signed_in(client, keys["office"])
    listed = browser.get("/office/list", params={"date": DAY.isoformat()}).text
    case_id = html.unescape(CASE_LINK.findall(listed)[-1])
    yesterday = DAY - dt.timedelta(days=1)
    with sessions.begin() as session:
        key_id = session.scalars(select(ApiKey.id)).first()
        assert key_id is not None
        session.add(Review(list_date=yesterday, case_id=case_id, decision="acknowledged",
                           key_id=key_id))  # fmt: skip
        newer = RiskList(list_date=DAY + dt.timedelta(days=1), as_of=dt.datetime(2030, 1, 1),
                         checksum="-", model_versions="-", rows=0)  # fmt: skip
        session.add(newer)
    try:
        again = browser.get("/office/list", params={"date": DAY.isoformat(), "size": "200"}).text
        row = again[again.index(f'data-case="{html.escape(case_id)}"') :]
        row = row[: row.index("</tr>")]
        assert "上次核查：" in row and "已知悉" in row
        page = browser.get("/office/case", params={"id": case_id, "date": DAY.isoformat()}).text
        assert re.search(r"<li><span class=\"earlier-list\">[^<]*清单</span> · ", page)
        assert 'id="older-list"' in page and "在此提交的核查记在" in page
    finally:
        with sessions.begin() as session:
            session.delete(session.merge(newer))
