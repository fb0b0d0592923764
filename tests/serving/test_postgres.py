"""The store on PostgreSQL (by URL): migrations, the audit chain from several processes,
a risk list stored and read back, a review. ``make test`` starts the server."""

from __future__ import annotations

import datetime as dt
import multiprocessing

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.contract import Dataset
from earlywarn.models.registry import LoadedModels
from earlywarn.serving.access import Role, create_key
from earlywarn.serving.app import create_app
from earlywarn.serving.audit import audit_key, verify_chain
from earlywarn.serving.risk_list import build_risk_list
from earlywarn.serving.scorer import Scorer
from earlywarn.serving.store import open_store
from earlywarn.settings import Settings
from tests.serving.helpers import append_both_ways

pytestmark = pytest.mark.slow
KEY = b"test-audit-key"


def _pg_settings(settings: Settings, url: str) -> Settings:
    return settings.model_copy(update={"database_url": url})


def _append_many(url: str, count: int) -> None:
    append_both_ways(sessionmaker(create_engine(url)), KEY, count)


def test_processes_appending_at_once_keep_one_chain_on_postgres(
    settings: Settings, pg_url: str
) -> None:
    open_store(_pg_settings(settings, pg_url))
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_append_many, args=(pg_url, 40)) for _ in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
        assert writer.exitcode == 0
    with sessionmaker(create_engine(pg_url))() as session:
        check = verify_chain(session, KEY)
    assert check.ok and check.records == 160, check


def test_list_and_review_on_postgres(
    settings: Settings, pg_url: str, sample: Dataset, champions: LoadedModels
) -> None:
    pg = _pg_settings(settings, pg_url)
    sessions: sessionmaker[Session] = open_store(pg)
    day = dt.date(2025, 10, 31)
    first = build_risk_list(pg, sample, day, sessions, champions)
    again = build_risk_list(pg, sample, day, sessions, champions)
    assert first.changed and not again.changed and first.checksum == again.checksum
    with sessions.begin() as session:
        token = create_key(session, Role.ADMIN).token
    client = TestClient(create_app(Scorer(pg, None), sessions), raise_server_exceptions=False)
    headers = {"X-API-Key": token}
    page = client.get(f"/v1/risk-lists/{day}", params={"band": "high"}, headers=headers).json()
    assert page["total"] > 0
    case_id = page["items"][0]["case_id"]
    answer = client.post(
        f"/v1/risk-lists/{day}/cases/{case_id}/review",
        json={"decision": "acknowledged"},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    reviewed = client.get(f"/v1/risk-lists/{day}", params={"reviewed": True}, headers=headers)
    assert [item["case_id"] for item in reviewed.json()["items"]] == [case_id]
    with sessions() as session:
        assert verify_chain(session, audit_key(pg, session)).ok
