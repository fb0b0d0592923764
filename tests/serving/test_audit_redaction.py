"""What the audit log and the access log keep of an address a client sent: no ID or phone
number, no NUL byte, however the address was written."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.serving.audit import audit, audit_key, safe_action, safe_target
from earlywarn.serving.store import AuditRecord
from earlywarn.settings import Settings
from tests.serving.helpers import access_log_line

MOBILE = "13812345678"


def _last(sessions: sessionmaker[Session]) -> AuditRecord:
    with sessions() as session:
        return session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(1)).one()


def test_a_refused_address_is_audited_by_its_route_not_as_sent(
    client: TestClient, keys: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    headers = {"X-API-Key": keys["admin"]}
    review = f"/v1/risk-lists/2025-10-31/cases/{MOBILE}%00x/review"
    assert client.post(review, json={}, headers=headers).status_code == 422
    record = _last(sessions)
    assert record.action == "POST /v1/risk-lists/2025-10-31/cases/[手机号]?x/review"
    assert record.target == "/v1/risk-lists/2025-10-31/cases/[手机号]?x/review"
    assert client.post(f"/v1/score?{MOBILE}=%00", json={}, headers=headers).status_code == 422
    assert _last(sessions).action == "POST /v1/score"


def test_an_action_is_kept_like_a_target(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """Whatever a caller builds an action from, the record keeps no number, no control
    character, and no more than its column holds."""
    action = f"GET /{MOBILE}\x00" + "x" * 100
    with sessions.begin() as session:
        audit(session, audit_key(settings, session), "test", action, "-", 0, "ok")
    stored = _last(sessions)
    assert MOBILE not in stored.action and "\x00" not in stored.action
    assert stored.action.startswith("GET /[手机号]?") and len(stored.action) == 64


@pytest.mark.parametrize(
    "address",
    [
        "/office/case?id=%313812345678&date=2025-10-31",
        "/v1/risk-lists/2025-10-31/cases/%31%33%38%31%32%33%34%35%36%37%38/review",
        "/office/case?id=1%33812345678%00",
        "/office/case?id=138+1234+5678&date=2025-10-31",  # a form's spaces
    ],
)
def test_the_access_log_decodes_an_address_before_it_redacts(address: str) -> None:
    """uvicorn logs the query as sent: a number written in percent escapes is one too."""
    line = access_log_line("GET", address, 200)
    assert MOBILE not in unquote(line) and "[手机号]" in line and "\x00" not in line


@pytest.mark.parametrize("written", ["138-1234-5678", "138 1234 5678", "１３８１２３４５６７８"])
def test_numbers_written_in_groups_are_redacted_in_targets_and_actions(written: str) -> None:
    assert safe_target(f"cases/{written}/review") == "cases/[手机号]/review"
    assert "5678" not in safe_action(f"GET /v1/cases/{written}")


def test_a_key_or_a_disguised_number_in_an_address_is_never_kept() -> None:
    """A key put in the query (?api_key=...) was written whole to the access log, and a
    number with zero-width spaces, underscores or slashes between its groups to the
    audit chain."""
    from earlywarn.serving.audit import safe_target

    key = "ew_30_GODsNZzjmonsfaao8cOXhB4rq7tly_Dd5TWnYc4w"
    assert safe_target(f"/v1/risk-lists/2024-12-31?api_key={key}") == (
        "/v1/risk-lists/2024-12-31?api_key=ew_30_G…"
    )
    for disguised in ("138\u200b1234\u200b5678", "138_1234_5678", "138/1234/5678",
                      "1101011990_03077774"):  # fmt: skip
        kept = safe_target(f"score {disguised}")
        assert "5678" not in kept and "7774" not in kept, kept
