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
from earlywarn.models.check import ModelRejectedError, artifact_digest, check_in_child
from earlywarn.settings import Settings

EXPERIMENT = "earlywarn"
CHAMPION = "champion"
CHALLENGER = "challenger"  # trained on the latest data, scored in shadow, never shown
PREVIOUS = "previous"  # the champion a promotion replaced: where a rollback returns
# Where the artifact directory sits inside a logged model (the pyfunc's ``artifacts``).
ARTIFACT_PATH = "artifacts/risk_model"
DIGEST_TAG = "artifact_sha256"
# Artifacts this process has already trial-scored in a child, by digest: the same bytes
# pass the same check, so a process that loads the champions again (the service
# following its alias, a test driving many nights) starts no second child for them.
_VERIFIED: set[str] = set()


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


def alias_version(client: MlflowClient, target: str, alias: str) -> str | None:
    try:
        return str(client.get_model_version_by_alias(model_name(target), alias).version)
    except MlflowException:
        return None


def champion_version(client: MlflowClient, target: str) -> str | None:
    return alias_version(client, target, CHAMPION)


def _fetch(
    client: MlflowClient, target: str, version: str | None, into: Path
) -> tuple[Path, str, str]:
    """Download a version's artifact and hold it to the digest recorded at registration."""
    chosen = version or champion_version(client, target)
    if chosen is None:
        raise LookupError(f"no champion for {model_name(target)}: train and promote a model first")
    where = f"{model_name(target)} version {chosen}"
    try:
        recorded = client.get_model_version(model_name(target), chosen).tags.get(DIGEST_TAG)
    except MlflowException as error:
        raise LookupError(f"{model_name(target)} has no version {chosen} (没有此版本)") from error
    try:
        local = Path(
            mlflow.artifacts.download_artifacts(
                artifact_uri=f"models:/{model_name(target)}/{chosen}/{ARTIFACT_PATH}",
                dst_path=str(into / target),
            )
        )
    except (MlflowException, OSError) as error:  # the artifact store lost its files
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ModelRejectedError(
            f"{where}: its files cannot be read from the artifact store ({first}) "
            f"(模型文件无法读取){_moved_store(client)}"
        ) from error
    if recorded is None:
        raise ModelRejectedError(f"{where}: no artifact digest was recorded; register it again")
    if artifact_digest(local) != recorded:
        raise ModelRejectedError(f"{where}: the artifact differs from the one registered")
    return local, chosen, recorded


def _moved_store(client: MlflowClient) -> str:
    """Why the store's files may be gone: the registry keeps the artifact store's absolute
    path, and a work directory moved (or copied to another machine) leaves it behind."""
    experiment = client.get_experiment_by_name(EXPERIMENT)
    location = experiment.artifact_location if experiment else ""
    if not location.startswith("file:"):
        return ""
    folder = Path(location.removeprefix("file://").removeprefix("file:"))
    if folder.exists():
        return ""
    return (
        f"; the registry keeps its files at {folder}, which is not there: was the work "
        "directory moved? Move it back to that place (MLflow records absolute paths), "
        "or train and promote again in the new one (工作目录是否被移动？)"
    )


def _load_checked(wanted: dict[str, str | None]) -> dict[str, tuple[RiskModel, str]]:
    """Fetch every wanted model, trial-score them all in one child process (one start-up
    for both), and only then open them here."""
    client = MlflowClient()
    with tempfile.TemporaryDirectory() as temp:
        fetched = {t: _fetch(client, t, v, Path(temp)) for t, v in wanted.items()}
        names = {str(local): f"{model_name(t)} version {v}" for t, (local, v, _) in fetched.items()}
        digests = {local: digest for local, _, digest in fetched.values()}
        unchecked = [local for local, digest in digests.items() if digest not in _VERIFIED]
        try:
            if unchecked:
                check_in_child(*unchecked)
        except ModelRejectedError as error:
            failed = names.get(error.directory or "", "a model")
            raise ModelRejectedError(f"{failed}: {error}") from error
        _VERIFIED.update(digests.values())
        loaded = {}
        for target, (local, chosen, _) in fetched.items():
            model = RiskModel.load(local)
            if model.target != target:
                raise ModelRejectedError(f"{names[str(local)]} holds a {model.target} model")
            loaded[target] = (model, chosen)
    return loaded


def load(target: str, version: str | None = None) -> tuple[RiskModel, str]:
    """A registered model by version, or the champion; with its version number.

    The artifact must match the digest recorded when it was registered, and it is
    opened and trial-scored in a child process before this process opens it
    (``models.check``); either failing raises ``ModelRejectedError``.
    """
    return _load_checked({target: version})[target]


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
    pairs = _load_checked({target: asked.get(target) for target in TARGETS})
    return loaded({t: m for t, (m, _) in pairs.items()}, {t: v for t, (_, v) in pairs.items()})
