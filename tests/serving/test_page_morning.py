"""A real morning on the office page: a double tap, a second sign-in, a session that
ended, a refused form on a phone, a bookmark to a case that left the list, a printout."""

from __future__ import annotations

import datetime as dt
import html
import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.serving.store import AuditRecord, Review, RiskList, RiskListItem
from tests.serving.conftest import DAY
from tests.serving.test_page_routes import CASE_LINK, _signed_in

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _first_case(browser: TestClient) -> tuple[str, str]:
    """A listed case of the key's county and its page's form token."""
    listed = browser.get("/office/list", params={"date": DAY.isoformat()}).text
    case_id = html.unescape(CASE_LINK.findall(listed)[0])
    page = browser.get("/office/case", params={"id": case_id, "date": DAY.isoformat()}).text
    found = CSRF.search(page)
    assert found is not None
    return case_id, found.group(1)


def _reviews(sessions: sessionmaker[Session], case_id: str) -> list[str]:
    with sessions() as session:
        found = session.scalars(select(Review).where(Review.case_id == case_id)).all()
        return [r.decision for r in found]


def test_a_review_sent_twice_is_recorded_once(
    client: TestClient, keys: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    browser = _signed_in(client, keys["office"])
    case_id, csrf = _first_case(browser)
    review = {"case_id": case_id, "date": DAY.isoformat(), "decision": "dismissed",
              "reason": "已化解", "csrf": csrf}  # fmt: skip
    before = _reviews(sessions, case_id)
    for _ in range(2):  # a double tap on a slow phone
        assert browser.post("/office/case/review", data=review).status_code == 303
    assert _reviews(sessions, case_id) == [*before, "dismissed"]
    with sessions() as session:
        said = session.scalars(
            select(AuditRecord.result).where(AuditRecord.action == "review")
            .order_by(AuditRecord.id.desc()).limit(1)
        ).one()  # fmt: skip
    assert "sent again" in said
    other = review | {"reason": "另一说明"}  # a different review is a new one
    assert browser.post("/office/case/review", data=other).status_code == 303
    assert _reviews(sessions, case_id) == [*before, "dismissed", "dismissed"]
    # The API alike: a client's retry after a timeout.
    path = f"/v1/risk-lists/{DAY.isoformat()}/cases/{case_id}/review"
    body = {"decision": "acknowledged"}
    headers = {"X-API-Key": keys["office"]}
    first = client.post(path, json=body, headers=headers)
    again = client.post(path, json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json()["created_at"] == again.json()["created_at"]
    assert _reviews(sessions, case_id) == [*before, "dismissed", "dismissed", "acknowledged"]


def test_a_form_of_an_earlier_sign_in_comes_back_with_what_was_typed(
    client: TestClient, keys: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    browser = _signed_in(client, keys["office"])
    case_id, old_token = _first_case(browser)
    before = _reviews(sessions, case_id)
    # A second sign-in in the same browser (another tab): a new session and token.
    assert browser.post("/office/sign-in", data={"api_key": keys["office"]}).status_code == 303
    typed = "与信访人面谈后已达成协议，详见台账"
    review = {"case_id": case_id, "date": DAY.isoformat(), "decision": "dismissed",
              "reason": typed, "csrf": old_token}  # fmt: skip
    answer = browser.post("/office/case/review", data=review)
    assert answer.status_code == 403
    assert typed in answer.text and "尚未保存" in answer.text
    assert re.search(r'value="dismissed" required checked', answer.text)
    renewed = CSRF.search(answer.text)
    assert renewed is not None and renewed.group(1) != old_token
    assert _reviews(sessions, case_id) == before
    sent = browser.post("/office/case/review", data=review | {"csrf": renewed.group(1)})
    assert sent.status_code == 303 and _reviews(sessions, case_id) == [*before, "dismissed"]


def test_a_refused_review_lands_on_its_field(client: TestClient, keys: dict[str, str]) -> None:
    browser = _signed_in(client, keys["office"])
    case_id, csrf = _first_case(browser)
    page = browser.get("/office/case", params={"id": case_id, "date": DAY.isoformat()}).text
    assert 'action="/office/case/review#review"' in page  # the answer opens at the form
    assert 'id="step-help"' in page  # the preselected step is kept only with an action
    review = {"case_id": case_id, "date": DAY.isoformat(), "decision": "dismissed",
              "csrf": csrf}  # fmt: skip
    refused = browser.post("/office/case/review", data=review)
    assert refused.status_code == 422
    reason = re.search(r"<textarea[^>]*>", refused.text)
    assert reason is not None
    assert 'aria-invalid="true"' in reason.group(0) and "autofocus" in reason.group(0)
    assert 'aria-describedby="review-error reason-help"' in reason.group(0)
    assert 'id="review-error"' in refused.text


def test_a_session_that_ended_returns_to_its_page_after_sign_in(
    client: TestClient, keys: dict[str, str]
) -> None:
    browser = TestClient(client.app, follow_redirects=False)
    browser.cookies.set("earlywarn_session", "ended-long-ago", path="/office")
    asked = f"/office/case?id=X1&date={DAY.isoformat()}"
    sent = browser.get(asked)
    assert sent.status_code == 303
    location = sent.headers["location"]
    assert location.startswith("/office/sign-in?") and "ended=1" in location
    page = browser.get(location)
    assert (
        "登录已过期" in page.text and 'name="next" value="/office/case?id=X1&amp;date=' in page.text
    )
    back = browser.post("/office/sign-in", data={"api_key": keys["office"], "next": asked})
    assert back.status_code == 303 and back.headers["location"] == asked
    # A form posted after the session ended: the reviewer is told it was not saved.
    browser = TestClient(client.app, follow_redirects=False)
    browser.cookies.set("earlywarn_session", "ended-long-ago", path="/office")
    posted = browser.post(
        "/office/case/review",
        data={"case_id": "X1", "date": DAY.isoformat(), "decision": "acknowledged"},
        headers={"referer": f"http://testserver{asked}"},
    )
    assert posted.status_code == 303, (posted.status_code, posted.text[:300])
    assert "ended=unsaved" in posted.headers["location"]
    assert "未能保存" in browser.get(posted.headers["location"]).text
    # Never to another site, whatever ``next`` says.
    elsewhere = browser.post(
        "/office/sign-in", data={"api_key": keys["office"], "next": "//evil.example/x"}
    )
    assert elsewhere.headers["location"] == "/office/list"


def test_a_bookmark_to_a_case_that_left_the_list_names_the_lists_that_held_it(
    client: TestClient, keys: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    browser = _signed_in(client, keys["office"])
    case_id, _ = _first_case(browser)
    later = DAY + dt.timedelta(days=3)
    with sessions.begin() as session:
        newer = RiskList(list_date=later, as_of=dt.datetime(2030, 1, 1), checksum="-",
                         model_versions="-", rows=0)  # fmt: skip
        session.add(newer)
    try:
        answer = browser.get("/office/case", params={"id": case_id, "date": later.isoformat()})
        assert answer.status_code == 404
        assert "不在这一天的清单上" in answer.text
        link = f"/office/case?id={case_id}&amp;date={DAY.isoformat()}"
        assert link in answer.text
        other = _signed_in(client, keys["other_office"])  # another county learns nothing
        hidden = other.get("/office/case", params={"id": case_id, "date": later.isoformat()})
        assert hidden.status_code == 404 and DAY.isoformat() not in hidden.text
    finally:
        with sessions.begin() as session:
            session.delete(session.merge(newer))


def test_a_printout_says_whose_list_and_which_part_of_it(
    client: TestClient, keys: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    browser = _signed_in(client, keys["office"])
    with sessions() as session:
        county = session.scalars(select(RiskListItem.county_code)).first()
    whole = browser.get("/office/list", params={"date": DAY.isoformat()}).text
    assert re.search(r'id="print-scope">范围：县区 \d+；全部事项（未筛选）<', whole)
    # The list's moment is its own day's end, not the next day's 00:00.
    assert f"数据截至 {DAY.year}年{DAY.month}月{DAY.day}日 24:00" in whole
    part = browser.get("/office/list", params={"date": DAY.isoformat(), "band": "high",
                                               "reviewed": "no"}).text  # fmt: skip
    scope = re.search(r'id="print-scope">([^<]+)<', part)
    assert scope is not None and "风险等级 高" in scope.group(1) and "未核查" in scope.group(1)
    assert county is not None
    assert 'class="no-print"' in part  # the export links are not printed


def test_an_analysts_county_typed_by_hand_is_checked_and_narrows_the_townships(
    client: TestClient, keys: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    browser = _signed_in(client, keys["analyst"])
    wrong = browser.get("/office/list", params={"date": DAY.isoformat(), "county": "北仑"})
    assert "县区“北仑”在这一天的清单上没有事项" in wrong.text
    with sessions() as session:
        counties = sorted(set(session.scalars(select(RiskListItem.county_code))))
        townships = {
            township
            for township in session.scalars(
                select(RiskListItem.township_code)
                .join(RiskList, RiskList.id == RiskListItem.list_id)
                .where(RiskListItem.county_code == counties[0], RiskList.list_date == DAY)
            )
            if township
        }
    chosen = browser.get("/office/list", params={"date": DAY.isoformat(), "county": counties[0]})
    assert "在这一天的清单上没有事项" not in chosen.text
    offered = set(re.findall(r'<option value="(\d+)"', chosen.text.split('id="township"')[1]
                             .split("</select>")[0]))  # fmt: skip
    assert offered == townships


def test_the_pager_is_above_and_below_the_list_with_its_ends(
    client: TestClient, keys: dict[str, str]
) -> None:
    browser = _signed_in(client, keys["analyst"])
    page = browser.get("/office/list", params={"date": DAY.isoformat(), "size": 10, "page": 2})
    pagers = re.findall(r'<nav class="pager".*?</nav>', page.text, flags=re.S)
    assert len(pagers) == 2  # above the table too: no tabbing past a hundred links
    assert "第一页" in pagers[0] and "最后一页" in pagers[0] and "第 2 / " in pagers[0]


def test_every_chart_has_its_values_as_a_table(client: TestClient, keys: dict[str, str]) -> None:
    """A screen reader reads no chart, and on a phone a chart's text is a few pixels."""
    browser = _signed_in(client, keys["office"])
    trends = browser.get("/office/trends").text
    folds = re.findall(r'<details class="chart-data"><summary>([^<]+)</summary>', trends)
    assert folds == [
        "每日预警数（按目标） · 数据表",
        "已核查比例 · 数据表",
        "预警数（按类别，最近清单） · 数据表",
    ]
    first = trends[trends.index('<details class="chart-data">') :]
    assert '<th scope="col">清单日期</th><th scope="col">越级访风险</th>' in first
    assert re.search(r'<th scope="row">\d{4}年\d+月\d+日</th><td class="num">\d+</td>', first)
    case_id, _ = _first_case(browser)
    page = browser.get("/office/case", params={"id": case_id, "date": DAY.isoformat()}).text
    assert 'stroke-dasharray="7 4"' in page  # the second line told apart without colour
    assert re.search(r'<td class="num">\d+%</td>', page)


def test_an_address_carries_only_the_pages_own_parameters(
    client: TestClient, keys: dict[str, str]
) -> None:
    """An unknown parameter was copied into every row's link (a 60 KB address made a
    12 MB page), and a key put in the address into the sign-in page's."""
    browser = _signed_in(client, keys["office"])
    padding = "A" * 20_000
    page = browser.get("/office/list", params={"date": DAY.isoformat(), "x": padding})
    assert page.status_code == 200 and padding not in page.text
    stranger = TestClient(client.app, follow_redirects=False)
    sent = stranger.get("/office/list", params={"api_key": keys["office"], "band": "high"})
    assert (
        keys["office"] not in sent.headers["location"] and "band%3Dhigh" in sent.headers["location"]
    )


def test_an_export_of_a_county_written_in_chinese_names_it(
    client: TestClient, keys: dict[str, str]
) -> None:
    """鄞州区 vanished from the file's name, which then passed for the whole list's."""
    from urllib.parse import quote

    browser = _signed_in(client, keys["analyst"])
    answer = browser.get(
        "/office/list/export", params={"date": DAY.isoformat(), "format": "csv", "county": "鄞州区"}
    )
    said = answer.headers["content-disposition"]
    assert 'filename="risk-list-' in said and quote("鄞州区") in said, said


def test_reviews_at_once_are_each_answered_and_a_repeat_is_only_a_repeat(
    client: TestClient, keys: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    """Two keys reviewing one case at once stalled ten seconds and failed 503 (the
    review's insert and its record waited on each other), identical posts at once were
    stored twice, and a decision repeated after another key's was dropped as a repeat."""
    import threading

    browser = _signed_in(client, keys["office"])
    case_id, _ = _first_case(browser)
    path = f"/v1/risk-lists/{DAY.isoformat()}/cases/{case_id}/review"
    before = len(_reviews(sessions, case_id))
    statuses: list[int] = []

    def post(key: str, decision: str) -> None:
        body = {"decision": decision} | ({"reason": "已化解"} if decision == "dismissed" else {})
        statuses.append(client.post(path, json=body, headers={"X-API-Key": keys[key]}).status_code)

    posts = [threading.Thread(target=post, args=("office", "acknowledged")) for _ in range(3)]
    posts[1:1] = [threading.Thread(target=post, args=("admin", "dismissed")) for _ in range(3)]
    for thread in posts:
        thread.start()
    for thread in posts:
        thread.join()
    assert statuses == [200] * 6, statuses
    stored = _reviews(sessions, case_id)[before:]
    assert stored.count("acknowledged") >= 1 and stored.count("dismissed") >= 1
    assert len(stored) <= 6 and len(stored) == len(set(zip(stored, stored, strict=True))) * 0 + len(
        stored
    )
    # A decision again after another key's is a decision, not a repeat.
    last = _reviews(sessions, case_id)[-1]
    again = "acknowledged" if last == "dismissed" else "dismissed"
    post("office" if again == "acknowledged" else "admin", again)
    assert _reviews(sessions, case_id)[-1] == again
