"""One full training on the sample for the training tests: the registry, promotion and
behaviour tests and the evaluation's tests read the same run (a training takes most of a
minute on the suite's machine)."""

from __future__ import annotations

import pytest

from earlywarn.settings import Settings, load_settings
from earlywarn.training.pipeline import TrainResult

from .helpers import train_on_sample


@pytest.fixture(scope="session")
def full_training(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, TrainResult]:
    """Baselines on every fit row and the learning curve refitted (``--full-evaluation``)."""
    settings = load_settings(
        work_dir=tmp_path_factory.mktemp("full"), evaluation_rows=0, learning_curve=True
    )
    return settings, train_on_sample(settings)
