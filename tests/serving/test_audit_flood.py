"""A caller without a key cannot grow the audit chain without limit: during its wait the
first refusal is recorded, the rest counted and said with the next record."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.serving.store import AuditRecord
from earlywarn.serving.throttle import FailureThrottle
from tests.serving.conftest import DAY


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def strict(client: TestClient, clock: Clock) -> Iterator[TestClient]:
    """The client with the service's own back-off (the suite's is lenient), on a clock
    the test moves."""
    state = client.app.state  # type: ignore[attr-defined]
    lenient, state.throttle = state.throttle, FailureThrottle(now=clock)
    try:
        yield client
    finally:
        state.throttle = lenient


def _records(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(AuditRecord)) or 0


@pytest.mark.parametrize(
    ("path", "headers"),
    [(f"/v1/risk-lists/{DAY}", {"X-API-Key": "ew_bogus"}),  # a wrong key, again and again
     (f"/v1/risk-lists/{DAY}?county=%01", {}),  # refused before any key is looked at
     ("/office/list?x=%01", {})],  # a page, without a session
)  # fmt: skip
def test_refusals_without_a_key_are_recorded_within_bounds(
    strict: TestClient,
    clock: Clock,
    sessions: sessionmaker[Session],
    path: str,
    headers: dict[str, str],
) -> None:
    before = _records(sessions)
    answers = [strict.get(path, headers=headers).status_code for _ in range(60)]
    assert answers.count(429) == 55, answers  # after the five free failures, it waits
    added = _records(sessions) - before
    assert added == 6, added  # the five failures and the first 429 of the wait
    clock.now += 10  # the wait is over: the next refusal is recorded, with the count
    strict.get(path, headers=headers)
    with sessions() as session:
        last = session.scalars(select(AuditRecord.result).order_by(AuditRecord.id.desc())).first()
    assert last is not None and "(+54 more 429 not recorded one by one)" in last, last
