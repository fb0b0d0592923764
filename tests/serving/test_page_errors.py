"""The office page's refusals: answered on the page, in its language, and audited."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

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
