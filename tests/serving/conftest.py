"""Serving tests run on small models fitted once per session from the sample (seconds, not
minutes), registered as the champions of a fresh work directory; training itself is
tested in ``tests/training``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import mlflow
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.contract import Dataset, load_dataset
from earlywarn.contract.rules import TARGETS
from earlywarn.features.build import build_features
from earlywarn.models import registry
from earlywarn.models.registry import LoadedModels
from earlywarn.resources import sample_dataset
from earlywarn.serving.access import Role, create_key
from earlywarn.serving.app import create_app
from earlywarn.serving.main import WARM_UP
from earlywarn.serving.risk_list import build_risk_list
from earlywarn.serving.scorer import Scorer
from earlywarn.serving.store import open_store
from earlywarn.serving.throttle import FailureThrottle
from earlywarn.settings import Settings, load_settings
from earlywarn.training import registry as training_registry
from earlywarn.training.fit import fit_target
from earlywarn.training.metrics import Capacity
from earlywarn.training.snapshots import SnapshotSettings, build_snapshots, time_split

DAY = dt.date(2025, 10, 31)
SMALL = {"num_leaves": 8, "learning_rate": 0.3}  # a few trees: enough to rank, quick to fit


@pytest.fixture(scope="session")
def sample() -> Dataset:
    return load_dataset(sample_dataset())


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory, sample: Dataset) -> Settings:
    """A work directory whose registry holds small champions fitted on the sample."""
    settings = load_settings(work_dir=tmp_path_factory.mktemp("work"))
    snapshot_settings = SnapshotSettings(frequency_days=28)
    split = time_split(
        build_snapshots(sample, dt.datetime(2026, 1, 1), snapshot_settings), snapshot_settings
    )
    client = registry.connect(settings)
    features = build_features(sample, [dt.datetime(2025, 11, 1)]).head(50)
    with mlflow.start_run(run_name="serving-tests"):
        for target in TARGETS:
            model = fit_target(
                split.fit, split.validation, target, Capacity(0.02, 50), SMALL, {"test": True}
            )
            version = training_registry.register(model, features, {})
            assert training_registry.promote(client, target, version).promoted
    return settings


@pytest.fixture(scope="session")
def champions(settings: Settings) -> LoadedModels:
    registry.connect(settings)
    return registry.load_models()


@pytest.fixture(scope="session")
def sessions(settings: Settings) -> sessionmaker[Session]:
    return open_store(settings)


@pytest.fixture(scope="session")
def scorer(settings: Settings, sample: Dataset) -> Scorer:
    scorer = Scorer(settings, sample_dataset())
    scorer.load_sources(sample)
    assert scorer.refresh_models()
    scorer.score(WARM_UP)
    scorer.ready = True
    return scorer


@pytest.fixture(scope="session")
def client(
    settings: Settings,
    sessions: sessionmaker[Session],
    scorer: Scorer,
    sample: Dataset,
    champions: LoadedModels,
) -> TestClient:
    build_risk_list(settings, sample, DAY, sessions, champions)
    # The authorization tests fail on purpose many times from one address: no back-off.
    lenient = FailureThrottle(free_failures=10**9)
    app = create_app(scorer, sessions, batch_limit=5, throttle=lenient)
    return TestClient(app, raise_server_exceptions=False)


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


@pytest.fixture
def nightly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, settings: Settings) -> Settings:
    """The daily job's own work directory, against the registry of the test champions."""
    monkeypatch.setenv("EARLYWARN_WORK_DIR", str(tmp_path / "night"))
    monkeypatch.setenv("EARLYWARN_MLFLOW_TRACKING_URI", settings.tracking_uri)
    monkeypatch.setenv("EARLYWARN_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("EARLYWARN_RETRAIN_WEEKDAY", "4")  # a Friday: no test asks for one
    return load_settings()
