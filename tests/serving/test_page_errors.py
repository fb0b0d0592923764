"""The office page's refusals: answered on the page, in its language, and audited."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.serving.app import create_app
from earlywarn.serving.gate import MAX_BODY_BYTES
from earlywarn.serving.scorer import Scorer
from earlywarn.serving.store import AuditRecord
from tests.serving.conftest import DAY

CASE_LINK = re.compile(r'href="/office/case\?id=([^"&]+)&amp;date=')


def _signed_in(client: TestClient, token: str) -> TestClient:
    browser = TestClient(client.app, follow_redirects=False)
    answer = browser.post("/office/sign-in", data={"api_key": token})
    assert answer.status_code == 303, answer.text
    return browser


def _last_records(sessions: sessionmaker[Session], count: int) -> list[tuple[str, str, str]]:
    with sessions() as session:
        records = session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(count))
        return [(r.action, r.target, r.result) for r in records]


@pytest.mark.parametrize("token", ["é", "令牌", "\U0001f600"])
def test_a_form_token_of_any_characters_is_a_403_audited(
    client: TestClient, keys: dict[str, str], sessions: sessionmaker[Session], token: str
) -> None:
    browser = _signed_in(client, keys["office"])
    case_id = CASE_LINK.findall(browser.get("/office/list", params={"date": str(DAY)}).text)[0]
    review = {"case_id": case_id, "date": str(DAY), "decision": "acknowledged", "csrf": token}
    assert browser.post("/office/case/review", data=review).status_code == 403
    assert _last_records(sessions, 1) == [("review", f"{DAY}/{case_id}", "refused 403")]
    assert browser.post("/office/sign-out", data={"csrf": token}).status_code == 403
    assert _last_records(sessions, 1) == [("web.sign_out", "-", "refused 403")]
    assert browser.get("/office/list").status_code == 200  # still signed in


def _a_page(answer: Any, status: int, words: str) -> None:
    """Answered with the page's own message, in its language, not the API's JSON."""
    assert answer.status_code == status, answer.text[:300]
    assert answer.headers["content-type"].startswith("text/html"), answer.text[:300]
    assert words in answer.text and '{"detail"' not in answer.text
    assert "content-security-policy" in answer.headers


def test_refusals_under_office_are_pages_in_the_readers_language(
    client: TestClient, keys: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    browser = _signed_in(client, keys["office"])
    _a_page(browser.get("/office/list", params={"page": "abc"}), 422, "请求中有无效的值")
    assert _last_records(sessions, 1) == [("GET /office/list", "/office/list", "refused 422")]
    pdf = browser.get("/office/list/export", params={"date": str(DAY), "format": "pdf"})
    _a_page(pdf, 404, "不支持该导出格式")
    assert _last_records(sessions, 1) == [("risk_list.export", f"{DAY} pdf (page)", "refused 404")]
    _a_page(browser.get("/office/list", params={"county": "33\x00"}), 422, "请求中有无效的值")
    _a_page(browser.get("/office/nowhere"), 404, "没有这个页面")
    _a_page(browser.post("/office/sign-out", data={"csrf": "forged"}), 403, "表单已失效")
    browser.cookies.set("earlywarn_lang", "en")
    _a_page(browser.get("/office/list", params={"size": "ten"}), 422, "Something in the request")
    stranger = TestClient(client.app, follow_redirects=False)
    _a_page(stranger.post("/office/sign-in", data={"api_key": "k" * 201}), 422, "请求中有无效的值")
    big = {"api_key": "k" * (MAX_BODY_BYTES + 1)}
    _a_page(stranger.post("/office/sign-in", data=big), 413, "提交的内容过大")


def test_a_throttled_sign_in_is_the_sign_in_page_with_its_wait(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    scorer: Scorer = client.app.state.scorer  # type: ignore[attr-defined]
    strict = TestClient(create_app(scorer, sessions), follow_redirects=False)
    statuses = [strict.post("/office/sign-in", data={"api_key": "ew_wrong"}).status_code
                for _ in range(6)]  # fmt: skip
    assert statuses == [401] * 5 + [429]
    held = strict.post("/office/sign-in", data={"api_key": "ew_wrong"})
    _a_page(held, 429, "失败次数过多")
    assert int(held.headers["retry-after"]) >= 1 and 'id="api_key"' in held.text
    assert _last_records(sessions, 1) == [("web.sign_in", "/office/sign-in", "refused 429")]


@pytest.mark.parametrize(
    ("form", "zh", "en"),
    [
        ({"decision": "maybe"}, "请选择核查结论", "Choose a decision"),
        ({"decision": "action_taken"}, "请选择所采取的措施", "Choose the step that was taken"),
        (
            {"decision": "action_taken", "step": "no_such_step"},
            "请选择所采取的措施",
            "Choose the step",
        ),
        ({"decision": "dismissed"}, "不予采纳时须填写说明", "A dismissal needs a reason"),
        ({"decision": "dismissed", "reason": "a\x00b"}, "无法保存的字符", "cannot be stored"),
    ],
    ids=["decision", "no step", "unknown step", "no reason", "control character"],
)
def test_a_review_form_error_is_said_in_the_pages_language(
    client: TestClient,
    keys: dict[str, str],
    sessions: sessionmaker[Session],
    form: dict[str, str],
    zh: str,
    en: str,
) -> None:
    browser = _signed_in(client, keys["office"])
    case_id = CASE_LINK.findall(browser.get("/office/list", params={"date": str(DAY)}).text)[0]
    page = browser.get("/office/case", params={"id": case_id, "date": str(DAY)})
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    review = {"case_id": case_id, "date": str(DAY), "csrf": csrf.group(1)} | form
    answer = browser.post("/office/case/review", data=review)
    _a_page(answer, 422, zh)
    assert "Value error" not in answer.text and "Input should" not in answer.text
    assert _last_records(sessions, 1) == [("review", f"{DAY}/{case_id}", "refused 422")]
    browser.cookies.set("earlywarn_lang", "en")
    _a_page(browser.post("/office/case/review", data=review), 422, en)


def test_our_own_bug_is_a_500_page_under_office_and_json_elsewhere(
    client: TestClient, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug of ours is logged and answered without a trace: the page's own message under
    /office, the API's JSON elsewhere. (The bug is made on purpose here.)"""

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("a bug that must not reach the reader")

    monkeypatch.setattr("earlywarn.serving.web.pages.with_reasons", broken)
    monkeypatch.setattr("earlywarn.serving.api.risk_lists.with_reasons", broken)
    browser = _signed_in(client, keys["office"])
    _a_page(browser.get("/office/list", params={"date": str(DAY)}), 500, "系统出现内部错误")
    browser.cookies.set("earlywarn_lang", "en")
    _a_page(browser.get("/office/list", params={"date": str(DAY)}), 500, "Something went wrong")
    api = client.get(f"/v1/risk-lists/{DAY}", headers={"X-API-Key": keys["analyst"]})
    assert (api.status_code, api.json()) == (500, {"detail": "internal error"})
    assert "must not reach" not in api.text
