"""A work directory with champion models trained on the sample, shared by the serving tests."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.contract import load_dataset
from earlywarn.resources import sample_dataset
from earlywarn.serving.access import Role, create_key
from earlywarn.serving.app import create_app
from earlywarn.serving.main import WARM_UP
from earlywarn.serving.risk_list import build_risk_list
from earlywarn.serving.scorer import Scorer
from earlywarn.serving.store import open_store
from earlywarn.settings import Settings, load_settings
from earlywarn.training import registry
from earlywarn.training.pipeline import train


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = load_settings(work_dir=tmp_path_factory.mktemp("work"))
    result = train(load_dataset(sample_dataset()), dt.datetime(2026, 1, 1), settings)
    client = registry.connect(settings)
    for target, version in result.versions.items():
        assert registry.promote(client, target, version).promoted
    return settings


@pytest.fixture(scope="session")
def sessions(settings: Settings) -> sessionmaker[Session]:
    return open_store(settings)


@pytest.fixture(scope="session")
def client(settings: Settings, sessions: sessionmaker[Session]) -> TestClient:
    build_risk_list(settings, sample_dataset(), dt.date(2025, 10, 31), sessions)
    scorer = Scorer(settings, sample_dataset())
    scorer.load_sources()
    assert scorer.refresh_models()
    scorer.score(WARM_UP)
    scorer.ready = True
    return TestClient(create_app(scorer, sessions, batch_limit=5), raise_server_exceptions=False)


@pytest.fixture(scope="session")
def keys(sessions: sessionmaker[Session]) -> dict[str, str]:
    with sessions.begin() as session:
        made = {
            "case_system": create_key(session, Role.CASE_SYSTEM).token,
            "office": create_key(session, Role.OFFICE, "330211").token,
            "other_office": create_key(session, Role.OFFICE, "330212").token,
            "analyst": create_key(session, Role.ANALYST).token,
            "admin": create_key(session, Role.ADMIN).token,
        }
    return made
