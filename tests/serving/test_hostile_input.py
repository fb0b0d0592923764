"""Hostile or broken input gets a 422 that names the field and echoes nothing; personal data
never gets in; exports never carry a live formula."""

from __future__ import annotations

import io
import json
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.contract.cells import neutralised
from earlywarn.serving.app import create_app
from earlywarn.serving.scorer import Scorer
from earlywarn.serving.store import AuditRecord, Review, RiskList, RiskListItem
from tests.conftest import valid_id_number
from tests.serving.conftest import DAY
from tests.serving.helpers import a_listed_case, access_log_line

HOSTILE_DAY = "2025-01-01"
FORMULA = '=HYPERLINK("http://evil.example","t")'


def _score(client: TestClient, keys: dict[str, str], body: Any) -> Any:
    headers = {"X-API-Key": keys["case_system"], "Content-Type": "application/json"}
    content = body if isinstance(body, str) else json.dumps(body)
    return client.post("/v1/score", content=content.encode("utf-8", "surrogatepass"),
                       headers=headers)  # fmt: skip


def _locs(answer: Any) -> list[list[Any]]:
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert isinstance(detail, list) and all({"loc", "msg", "type"} <= set(d) for d in detail)
    assert all("input" not in d and "ctx" not in d for d in detail)
    return [d["loc"] for d in detail]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_a_number_json_cannot_carry_is_a_422(
    client: TestClient, keys: dict[str, str], number: str
) -> None:
    body = json.dumps(a_listed_case(client, keys))
    first = body.index('"group_size": ') + len('"group_size": ')
    end = body.index("}", first)
    answer = _score(client, keys, body[:first] + number + body[end:])
    assert ["body", "contacts", 0, "group_size"] in _locs(answer)


@pytest.mark.parametrize(
    ("field", "moment"),
    [
        ("as_of", "0001-01-01T00:00:00+14:00"),
        ("as_of", "9999-12-31T23:00:00-12:00"),
        ("as_of", 1735689600),
        ("registered_at", "0001-01-01T00:00:00+14:00"),
    ],
)
def test_moments_out_of_reach_are_a_422(
    client: TestClient, keys: dict[str, str], field: str, moment: object
) -> None:
    body = a_listed_case(client, keys)
    if field == "as_of":
        body["as_of"] = moment
        where = ["body", "as_of"]
    else:
        body["case"][field] = moment
        where = ["body", "case", field]
    assert where in _locs(_score(client, keys, body))


def test_unstorable_text_is_a_422_that_echoes_nothing(
    client: TestClient, keys: dict[str, str]
) -> None:
    body = a_listed_case(client, keys)
    surrogate = json.dumps(body).replace(body["case"]["case_id"], "\\ud800x", 1)
    assert ["body", "case", "case_id"] in _locs(_score(client, keys, surrogate))
    body["case"]["petitioner_id"] = "P\u0000"
    assert ["body", "case", "petitioner_id"] in _locs(_score(client, keys, body))
    reversed_id = a_listed_case(client, keys)  # shown reversed on the page and in the ledger
    reversed_id["case"]["case_id"] = "C\u202etxt.exe"
    assert ["body", "case", "case_id"] in _locs(_score(client, keys, reversed_id))
    huge = a_listed_case(client, keys)
    huge["case"]["case_id"] = "C" * 1_000_000
    answer = _score(client, keys, huge)
    assert ["body", "case", "case_id"] in _locs(answer) and len(answer.content) < 2_000
    for path in (f"/v1/risk-lists/{DAY}?county=33%00", f"/v1/risk-lists/{DAY}/cases/C%00/review",
                 f"/v1/risk-lists/{DAY}?county=33%E2%80%AE"):  # fmt: skip
        refused = client.get(path, headers={"X-API-Key": keys["admin"]})
        assert refused.status_code == 422, path
    unparseable = _score(client, keys, "{not json")
    assert _locs(unparseable)


@pytest.mark.parametrize(
    "value",
    [valid_id_number(), "13812345678", "张三", "+8613812345678", "138-1234-5678", "张 三",
     "张\u200b三"],
    ids=["id", "mobile", "name", "mobile+86", "mobile grouped", "name spaced", "name joined"],
)  # fmt: skip
def test_personal_data_is_refused_and_never_stored(
    client: TestClient, keys: dict[str, str], sessions: sessionmaker[Session], value: str
) -> None:
    for field in ("petitioner_id", "case_id"):
        body = a_listed_case(client, keys)
        body["case"][field] = value
        answer = _score(client, keys, body)
        assert ["body", "case", field] in _locs(answer)
        assert value not in answer.text
    with sessions() as session:
        targets = list(session.scalars(select(AuditRecord.target)))
    assert not any(value in target for target in targets)


def test_an_identifier_a_spreadsheet_would_run_is_a_422(
    client: TestClient, keys: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    body = a_listed_case(client, keys)
    body["case"]["case_id"] = '=HYPERLINK("http://evil.example","C1")'
    body["case"]["county_code"] = "-2+3+cmd|' /C calc'!A0"
    answer = _score(client, keys, body)
    assert answer.status_code == 422
    assert {("case_id",), ("county_code",)} <= {tuple(loc[2:]) for loc in _locs(answer)}
    assert "spreadsheet formula" in answer.text
    with sessions() as session:  # nor kept as written in the audit record's target
        last = session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(1)).one()
    assert last.target == "(formula-like id refused)"


def test_history_after_as_of_duplicates_and_early_as_of_are_refused(
    client: TestClient, keys: dict[str, str]
) -> None:
    body = a_listed_case(client, keys)
    body["contacts"][0]["occurred_at"] = "2025-12-01T10:00:00"
    assert ["body", "contacts", 0, "occurred_at"] in _locs(_score(client, keys, body))
    body = a_listed_case(client, keys)
    body["contacts"].append(dict(body["contacts"][0]))
    where = ["body", "contacts", len(body["contacts"]) - 1, "contact_id"]
    assert where in _locs(_score(client, keys, body))
    body = a_listed_case(client, keys)
    body["contacts"], body["actions"] = [], []
    body["as_of"] = "2020-01-01T00:00:00"
    assert ["body", "as_of"] in _locs(_score(client, keys, body))


def test_a_review_without_its_step_answers_the_documented_422(
    client: TestClient, keys: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    item = client.get(f"/v1/risk-lists/{DAY}", headers={"X-API-Key": keys["admin"]}).json()
    case_id = item["items"][0]["case_id"]
    route = f"/v1/risk-lists/{DAY}/cases/{case_id}/review"
    headers = {"X-API-Key": keys["admin"]}
    assert _locs(client.post(route, json={"decision": "action_taken"}, headers=headers))
    unknown = client.post(route, json={"decision": "action_taken", "step": "x"}, headers=headers)
    assert ["body", "step"] in _locs(unknown)
    reason = f"本人身份证 {valid_id_number()} 电话 13812345678 或 138-1234-5678、138 1234 5678"
    saved = client.post(route, json={"decision": "dismissed", "reason": reason}, headers=headers)
    assert saved.status_code == 200
    assert "[身份证号]" in saved.json()["reason"] and "13812345678" not in saved.text
    assert "1234-5678" not in saved.text and "1234 5678" not in saved.text
    with sessions() as session:
        stored = session.scalars(select(Review.reason).where(Review.case_id == case_id)).all()
    assert all(valid_id_number() not in (text or "") for text in stored)


def _hostile_list(sessions: sessionmaker[Session]) -> None:
    """A stored list whose codes came from a hostile export, and a case id with slashes."""
    import datetime as dt

    with sessions.begin() as session:
        if session.scalar(select(RiskList).where(RiskList.list_date == dt.date(2025, 1, 1))):
            return
        header = RiskList(list_date=dt.date(2025, 1, 1), as_of=dt.datetime(2025, 1, 2),
                          checksum="h" * 64, model_versions="test", rows=2)  # fmt: skip
        session.add(header)
        session.flush()
        for rank, (case_id, township) in enumerate(
            [("C/1/../x", FORMULA), ("C2", "+1+2"), ("C3", "\tTAB")], start=1
        ):
            session.add(RiskListItem(
                list_id=header.id, rank=rank, case_id=case_id, county_code="330211",
                township_code=township, category="other", escalation_probability=0.5,
                collective_probability=0.1, escalation_flag=True, collective_flag=False,
                risk_band="high", reasons="[]", steps="[]", days_since_last_contact=1.0,
            ))  # fmt: skip


def test_exports_never_carry_a_live_formula(
    client: TestClient, keys: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    _hostile_list(sessions)
    headers = {"X-API-Key": keys["admin"]}
    route = f"/v1/risk-lists/{HOSTILE_DAY}/export"
    csv_text = client.get(route, params={"format": "csv"}, headers=headers).text
    assert "'" + FORMULA.replace('"', '""') in csv_text and ",'+1+2," in csv_text
    assert ",'\tTAB," in csv_text
    xlsx = client.get(route, params={"format": "xlsx"}, headers=headers).content
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    assert sheet is not None
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value == FORMULA]
    assert cells and all(cell.data_type == "s" for cell in cells)
    import polars as pl

    frame = pl.DataFrame({"township_code": ["@SUM(A1)", "-2+3", "ok"]})
    assert neutralised(frame)["township_code"].to_list() == ["'@SUM(A1)", "'-2+3", "ok"]


def test_a_case_id_with_slashes_is_reachable(
    client: TestClient, keys: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    _hostile_list(sessions)
    route = f"/v1/risk-lists/{HOSTILE_DAY}/cases/C%2F1%2F..%2Fx/review"
    answer = client.post(route, json={"decision": "acknowledged"},
                         headers={"X-API-Key": keys["admin"]})  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json()["case_id"] == "C/1/../x"
    browser = TestClient(client.app, follow_redirects=False)
    browser.post("/office/sign-in", data={"api_key": keys["admin"]})
    listed = browser.get("/office/list", params={"date": HOSTILE_DAY})
    assert 'href="/office/case?id=C/1/../x&amp;date=2025-01-01&amp;back=' in listed.text
    page = browser.get("/office/case", params={"id": "C/1/../x", "date": HOSTILE_DAY})
    assert page.status_code == 200 and "C/1/../x" in page.text
    for header in ("x-frame-options", "content-security-policy", "referrer-policy"):
        assert header in page.headers
    # Signed out, Back must not show the cases from the browser's cache.
    assert page.headers["cache-control"] == "no-store"
    assert listed.headers["cache-control"] == "no-store"
    assert "no-store" not in browser.get("/office/static/style.css").headers.get(
        "cache-control", ""
    )


def test_refusals_are_audited_and_repeated_failures_back_off(
    client: TestClient, sessions: sessionmaker[Session], keys: dict[str, str]
) -> None:
    scorer: Scorer = client.app.state.scorer  # type: ignore[attr-defined]
    strict = TestClient(create_app(scorer, sessions), raise_server_exceptions=False)
    statuses = [
        strict.get(f"/v1/risk-lists/{DAY}", headers={"X-API-Key": "ew_wrong"}).status_code
        for _ in range(7)
    ]
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429]
    refused = strict.get(f"/v1/risk-lists/{DAY}", headers={"X-API-Key": "ew_wrong"})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    sign_in = strict.post("/office/sign-in", data={"api_key": keys["office"]})
    assert sign_in.status_code == 429  # a person signing in waits as before
    # A valid key from that address is served while the wrong one waits: one component
    # still sending a revoked key held back every call of its host.
    served = strict.get(f"/v1/risk-lists/{DAY}", headers={"X-API-Key": keys["analyst"]})
    assert served.status_code == 200
    with sessions() as session:
        results = [
            (r.actor, r.result)
            for r in session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(12))
        ]
    assert ("anonymous", "refused 401") in results and ("anonymous", "refused 429") in results
    body = client.post("/v1/score", json={"case": {}}, headers={"X-API-Key": keys["analyst"]})
    assert body.status_code == 422
    with sessions() as session:
        last = session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(1)).one()
    assert last.result == "refused 422" and last.actor.startswith("key:")


def test_the_access_log_keeps_no_id_or_phone_number() -> None:
    path = f"/v1/risk-lists/2025-10-31/cases/{valid_id_number()}/review?tel=13812345678"
    line = access_log_line("POST", path, 404)
    assert valid_id_number() not in line and "13812345678" not in line and "[身份证号]" in line
