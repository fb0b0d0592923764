"""What a posted body must be beyond its field types: within the size limit however it is
sent, timestamps as ISO 8601 text, no blank identifier; and refusals that say where."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.serving.deps import NO_KEY
from earlywarn.serving.gate import MAX_BODY_BYTES
from earlywarn.serving.request_checks import PERSONAL_TARGET
from earlywarn.serving.store import AuditRecord
from earlywarn.serving.throttle import FailureThrottle
from tests.serving.helpers import a_listed_case


def _score(client: TestClient, keys: dict[str, str], body: dict[str, Any]) -> Any:
    return client.post("/v1/score", json=body, headers={"X-API-Key": keys["case_system"]})


def _locs(answer: Any) -> list[list[Any]]:
    assert answer.status_code == 422, answer.text[:300]
    return [error["loc"] for error in answer.json()["detail"]]


def _set(body: dict[str, Any], where: list[str | int], value: object) -> Any:
    """Put ``value`` at the path ``where`` of the body; the field's parent, for its siblings."""
    parent: Any = body
    for part in where[:-1]:
        parent = parent[part]
    parent[where[-1]] = value
    return parent


def _chunks(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_a_chunked_body_over_the_limit_is_a_413(client: TestClient, keys: dict[str, str]) -> None:
    """Sent in chunks, a body announces no length: its bytes are counted as they come."""
    body = a_listed_case(client, keys) | {"padding": "x" * MAX_BODY_BYTES}
    content = json.dumps(body).encode()
    headers = {"X-API-Key": keys["case_system"], "Content-Type": "application/json"}
    answer = client.post("/v1/score", content=_chunks(content), headers=headers)
    assert answer.status_code == 413, answer.text[:200]
    assert answer.json() == {"detail": f"body larger than {MAX_BODY_BYTES} bytes"}
    small = json.dumps(a_listed_case(client, keys)).encode()
    assert client.post("/v1/score", content=_chunks(small), headers=headers).status_code == 200


TIMESTAMPS = [
    ["as_of"],
    ["case", "registered_at"],
    ["contacts", 0, "occurred_at"],
    ["actions", 0, "occurred_at"],
]


@pytest.mark.parametrize("where", TIMESTAMPS, ids=lambda where: ".".join(map(str, where)))
@pytest.mark.parametrize("number", ["1735689600", "20240101", "-1.5"])
def test_a_timestamp_written_as_a_number_in_a_string_is_a_422(
    client: TestClient, keys: dict[str, str], where: list[str | int], number: str
) -> None:
    """pydantic's lax mode reads such a string as seconds since 1970: never a moment here."""
    body = a_listed_case(client, keys)
    parent = _set(body, where, number)
    if where[0] == "actions":  # pydantic names the action's model by its type
        where = ["actions", 0, parent["action_type"], "occurred_at"]
    answer = _score(client, keys, body)
    assert ["body", *where] in _locs(answer) and number not in answer.text


IDENTIFIERS = [
    (["case", "case_id"], "\u3000\u3000"),
    (["case", "petitioner_id"], " "),
    (["case", "county_code"], "\t"),
    (["case", "township_code"], "  "),
    (["contacts", 0, "contact_id"], "\n"),
    (["actions", 0, "action_id"], "\u00a0"),
]


@pytest.mark.parametrize(("where", "blank"), IDENTIFIERS, ids=lambda v: repr(v))
def test_a_blank_identifier_or_code_is_a_422(
    client: TestClient, keys: dict[str, str], where: list[str | int], blank: str
) -> None:
    """The loader reads a blank as a missing value: the API does not score on one."""
    body = a_listed_case(client, keys)
    _set(body, where, blank)
    assert ["body", *where] in _locs(_score(client, keys, body))


@pytest.mark.parametrize("size", [True, "25", 2.5])
def test_a_group_size_is_a_whole_number_never_true_or_text(
    client: TestClient, keys: dict[str, str], size: object
) -> None:
    body = a_listed_case(client, keys)
    body["contacts"][0]["group_size"] = size
    assert ["body", "contacts", 0, "group_size"] in _locs(_score(client, keys, body))


@pytest.mark.parametrize(
    ("name", "key", "as_of", "status"),
    [("王小明", "office", None, 403), ("李四", "case_system", "2040-01-01T00:00:00", 422)],
    ids=["role", "calendar"],
)
def test_a_name_posted_as_the_case_id_never_reaches_the_audit_log(
    client: TestClient,
    keys: dict[str, str],
    sessions: sessionmaker[Session],
    name: str,
    key: str,
    as_of: str | None,
    status: int,
) -> None:
    """Refused for its role or its calendar before the personal-data check, the call's
    record keeps no posted value of a case that holds personal data."""
    body = a_listed_case(client, keys)
    body["case"]["case_id"] = name
    if as_of:
        body["as_of"] = as_of
    headers = {"X-API-Key": keys[key]}
    assert client.post("/v1/score", json=body, headers=headers).status_code == status
    batch = client.post("/v1/score/batch", json={"cases": [body]}, headers=headers)
    assert batch.status_code == status
    with sessions() as session:
        records = session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(2))
        last = [(r.action, r.target, r.result) for r in records]
        targets = list(session.scalars(select(AuditRecord.target)))
    batch_target = "1 cases" if status == 403 else PERSONAL_TARGET
    assert last == [
        ("score_batch", batch_target, f"refused {status}"),
        ("score", PERSONAL_TARGET, f"refused {status}"),
    ]
    assert not any(name in target for target in targets)


def test_a_batch_names_the_case_that_failed(client: TestClient, keys: dict[str, str]) -> None:
    good, bad = a_listed_case(client, keys), a_listed_case(client, keys)
    bad["contacts"][0]["occurred_at"] = "2025-12-01T10:00:00"  # after as_of
    bad["case"]["petitioner_id"] = "\t"
    answer = client.post(
        "/v1/score/batch", json={"cases": [good, bad]}, headers={"X-API-Key": keys["admin"]}
    )
    assert _locs(answer) == [
        ["body", "cases", 1, "case", "petitioner_id"],
        ["body", "cases", 1, "contacts", 0, "occurred_at"],
    ]


@pytest.mark.parametrize("content", [b'{"case": ', b"\xff\xfe not json", b'{"case": 1}'])
def test_a_body_without_a_valid_key_is_refused_for_its_key(
    client: TestClient, keys: dict[str, str], sessions: sessionmaker[Session], content: bytes
) -> None:
    """FastAPI parses a body before the key is checked: an unparseable one without a valid
    key is still a 401, so nobody without a key learns what the body should hold."""
    json_type = {"Content-Type": "application/json"}
    for key in ({}, {"X-API-Key": "not a key"}):
        answer = client.post("/v1/score", content=content, headers=json_type | key)
        assert answer.status_code == 401, answer.text[:300]
        assert answer.json() == {"detail": NO_KEY}
        with sessions() as session:
            last = session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc())).first()
            assert last is not None and (last.action, last.result) == (
                "authenticate",
                "refused 401",
            )
    shown = client.post("/v1/score", content=content, headers=json_type | _key(keys))
    assert shown.status_code == 422, shown.text[:300]


def test_unparseable_bodies_cannot_try_keys_faster_than_the_throttle(
    client: TestClient, keys: dict[str, str]
) -> None:
    state = client.app.state  # type: ignore[attr-defined]
    lenient, state.throttle = state.throttle, FailureThrottle(free_failures=2)
    try:
        json_type = {"Content-Type": "application/json"}
        answers = [
            client.post("/v1/score", content=b"{", headers=json_type | {"X-API-Key": f"k{n}"})
            for n in range(3)
        ]
        assert [a.status_code for a in answers] == [401, 401, 429]
        assert int(answers[-1].headers["Retry-After"]) > 0
        again = client.post("/v1/score", content=b"{", headers=json_type | {"X-API-Key": "k3"})
        assert again.status_code == 429  # unknown keys wait
        valid = client.post("/v1/score", content=b"{", headers=json_type | _key(keys))
        assert valid.status_code == 422  # a valid key is answered: its body cannot be parsed
    finally:
        state.throttle = lenient


def _key(keys: dict[str, str]) -> dict[str, str]:
    return {"X-API-Key": keys["case_system"]}


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [(("case", "petitioner_id"), "张卫东等12人", "personal name"),
     (("case", "petitioner_id"), "zwd@163.com", "e-mail address or a landline"),
     (("case", "responsible_unit"), "县信访局张卫东", "personal name"),
     (("case", "responsible_unit"), "周明华", "personal name")],
)  # fmt: skip
def test_the_score_api_refuses_what_the_import_refuses(
    client: TestClient, keys: dict[str, str], field: tuple[str, str], value: str, words: str
) -> None:
    """A unit holding its handler's name was scored (the import refused it), and so was
    a petitioner written as a group of people."""
    body = a_listed_case(client, keys)
    body[field[0]][field[1]] = value
    answer = client.post("/v1/score", json=body, headers={"X-API-Key": keys["case_system"]})
    assert answer.status_code == 422, answer.text
    assert words in answer.text and value not in answer.text
