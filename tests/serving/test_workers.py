"""Several processes appending to one audit chain: the database keeps it whole."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.contract import load_dataset
from earlywarn.resources import sample_dataset
from earlywarn.serving.access import Role, create_key
from earlywarn.serving.audit import audit_key, verify_chain
from earlywarn.serving.store import AuditRecord, open_store
from earlywarn.settings import Settings, load_settings
from tests.serving.helpers import append_both_ways, case_body, running_service

KEY = b"test-audit-key"


def _append_many(work_dir: str, count: int) -> None:
    append_both_ways(open_store(load_settings(work_dir=Path(work_dir))), KEY, count)


def test_processes_appending_at_once_keep_one_chain(tmp_path: Path) -> None:
    open_store(load_settings(work_dir=tmp_path))  # migrated before the writers start
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_append_many, args=(str(tmp_path), 40)) for _ in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
        assert writer.exitcode == 0
    with open_store(load_settings(work_dir=tmp_path))() as session:
        check = verify_chain(session, KEY)
    assert check.ok and check.records == 160, check


@pytest.mark.slow  # two service processes: the slow suite
def test_two_workers_serve_and_audit_every_call(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        token = create_key(session, Role.CASE_SYSTEM, label="workers test").token
    body = case_body(str(load_dataset(sample_dataset()).cases["case_id"][0]))
    for rows in (body["contacts"], body["actions"]):  # each call names a case of its own
        for row in rows:
            del row["case_id"]
    with running_service(settings, workers=2) as base:

        def score(number: int) -> int:
            payload = body | {"case": body["case"] | {"case_id": f"C-workers-{number}"}}
            answer = httpx.post(
                f"{base}/v1/score", json=payload, headers={"X-API-Key": token}, timeout=30
            )
            return answer.status_code

        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(score, range(80)))
    assert statuses == [200] * 80
    with sessions() as session:
        check = verify_chain(session, audit_key(settings, session))
        scored = session.scalar(select(func.count()).where(AuditRecord.target.like("C-workers-%")))
    assert check.ok, check
    assert scored == 80
