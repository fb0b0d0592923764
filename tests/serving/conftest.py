"""A work directory with champion models trained on the sample, shared by the serving tests."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.contract import load_dataset
from earlywarn.resources import sample_dataset
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
