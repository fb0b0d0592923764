"""The read side of the MLflow registry: where a registered model is found and how it is loaded.

Each target's model is registered as ``earlywarn-<target>``; the ``champion``
alias names the version that scores. Loading reads the saved artifact as data
(``booster.txt`` and ``model.json``): earlywarn never unpickles a stored Python
object. Registering and promoting are training's business (``training/registry.py``).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from earlywarn.contract.rules import TARGETS
from earlywarn.models.artifact import RiskModel
from earlywarn.settings import Settings

EXPERIMENT = "earlywarn"
CHAMPION = "champion"
# Where the artifact directory sits inside a logged model (the pyfunc's ``artifacts``).
ARTIFACT_PATH = "artifacts/risk_model"


def model_name(target: str) -> str:
    return f"earlywarn-{target}"


def connect(settings: Settings) -> MlflowClient:
    """Point MLflow at the configured store, creating the local one on first use."""
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(settings.tracking_uri)
    if mlflow.get_experiment_by_name(EXPERIMENT) is None:
        mlflow.create_experiment(EXPERIMENT, artifact_location=settings.artifact_location)
    mlflow.set_experiment(EXPERIMENT)
    return MlflowClient()


def champion_version(client: MlflowClient, target: str) -> str | None:
    try:
        return str(client.get_model_version_by_alias(model_name(target), CHAMPION).version)
    except MlflowException:
        return None


def load(target: str, version: str | None = None) -> tuple[RiskModel, str]:
    """A registered model by version, or the champion; with its version number."""
    client = MlflowClient()
    chosen = version or champion_version(client, target)
    if chosen is None:
        raise LookupError(f"no champion for {model_name(target)}: train and promote a model first")
    with tempfile.TemporaryDirectory() as temp:
        local = mlflow.artifacts.download_artifacts(
            artifact_uri=f"models:/{model_name(target)}/{chosen}/{ARTIFACT_PATH}", dst_path=temp
        )
        model = RiskModel.load(Path(local))
    if model.target != target:
        raise ValueError(f"{model_name(target)} version {chosen} holds a {model.target} model")
    return model, chosen


@dataclass(frozen=True)
class LoadedModels:
    """One model per target, loaded together, with the versions that answer for them."""

    models: dict[str, RiskModel]
    versions: dict[str, str]  # "registered name/number", as outputs name them
    numbers: dict[str, str | None]  # the registry's version numbers, to notice a move

    @property
    def version_text(self) -> str:
        return ", ".join(self.versions[target] for target in self.models)


def loaded(models: dict[str, RiskModel], numbers: dict[str, str]) -> LoadedModels:
    """Models already in memory (a test's, or just trained) as a ``LoadedModels``."""
    versions = {target: f"{model_name(target)}/{numbers[target]}" for target in models}
    return LoadedModels(dict(models), versions, {t: v for t, v in numbers.items()})


def load_models(wanted: dict[str, str | None] | None = None) -> LoadedModels:
    """Every target's model: the versions asked for, the champions for the rest."""
    asked = wanted or {}
    pairs = {target: load(target, asked.get(target)) for target in TARGETS}
    return loaded({t: m for t, (m, _) in pairs.items()}, {t: v for t, (_, v) in pairs.items()})
