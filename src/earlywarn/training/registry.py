"""The write side of the MLflow registry: register a trained model, promote a version.

A local store by default (SQLite database and artifact folder in the work
directory); any tracking URI by setting. Promotion moves the ``champion`` alias
only when the new version beats the champion on the same backtest, or when forced
with a recorded reason. Finding and loading a registered model is ``models/registry.py``.
"""

from __future__ import annotations

import datetime as dt
import getpass
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import mlflow
import polars as pl
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient

from earlywarn.models.artifact import RiskModel
from earlywarn.models.check import ModelRejectedError, artifact_digest
from earlywarn.models.pyfunc import RiskModelPyfunc, signature_frame
from earlywarn.models.registry import (
    CHALLENGER,
    CHAMPION,
    DIGEST_TAG,
    PREVIOUS,
    alias_version,
    champion_version,
    load,
    model_name,
)
from earlywarn.training.comparison import NOT_COMPARABLE

logger = logging.getLogger(__name__)

# MLflow infers a pyfunc's pip requirements by loading it in a new Python process (about
# 5 s, most of registering). Every RiskModel is the same pyfunc class in the same
# environment, so the first registration of a process infers them and the next reuse
# that list: the same requirements.txt, one inference per training instead of one per target.
_inferred_requirements: dict[str, list[str]] = {}


def register(model: RiskModel, sample: pl.DataFrame, tags: dict[str, str]) -> str:
    """Log the model in the active run with a signature, register it, tag the version."""
    with tempfile.TemporaryDirectory() as temp:
        directory = Path(temp) / "risk_model"
        model.save(directory)
        tags = tags | {DIGEST_TAG: artifact_digest(directory)}
        inputs = signature_frame(sample, model.feature_names)
        info = mlflow.pyfunc.log_model(
            name=f"{model.target}_model",
            python_model=RiskModelPyfunc(),
            artifacts={"model": str(directory)},
            signature=infer_signature(inputs, model.probability(sample)),
            input_example=inputs.head(3),
            registered_model_name=model_name(model.target),
            pip_requirements=_inferred_requirements.get("pip"),
        )
        if "pip" not in _inferred_requirements:
            location = mlflow.get_logged_model(info.model_id).artifact_location
            written = mlflow.artifacts.download_artifacts(
                f"{location}/requirements.txt", dst_path=temp
            )
            lines = Path(written).read_text(encoding="utf-8").splitlines()
            _inferred_requirements["pip"] = [line for line in lines if line.strip()]
    version = str(info.registered_model_version)
    client = MlflowClient()
    for key, value in tags.items():
        client.set_model_version_tag(model_name(model.target), version, key, value)
    return version


@dataclass
class Decision:
    promoted: bool
    message: str
    # Asked for what already holds (the champion promoted again): nothing to do, which
    # a script may take as done.
    already: bool = False


def promote(
    client: MlflowClient, target: str, version: str, force: bool = False, reason: str | None = None
) -> Decision:
    """Move ``champion`` to ``version`` if it beats the champion on the same backtest.

    A version that cannot serve (its artifact fails the schema, the digest or the trial
    score in a child process) is refused, even with ``force``.
    """
    name = model_name(target)
    try:
        tags = client.get_model_version(name, version).tags
    except MlflowException:
        return Decision(
            False,
            f"{name} has no version {version}: `earlywarn models` lists them (没有此版本)",
        )
    current = champion_version(client, target)
    if force and not reason:
        return Decision(
            False, "--force needs --reason: the override is recorded (强制操作须说明理由)"
        )
    if current == version:
        return Decision(
            False, f"{name} version {version} is already the champion (已是正式版本)", True
        )
    try:
        load(target, version)
    except ModelRejectedError as error:
        return Decision(False, f"refused 拒绝: {error}")
    if current is not None and not force:
        compared = tags.get("compared_with_champion")
        apart = tags.get(NOT_COMPARABLE, "")
        if apart.startswith(f"{current}: "):
            return Decision(
                False,
                f"version {version} cannot be held to champion {current} on its backtest: "
                f"{apart.split(': ', 1)[1]}; promote it with --force --reason if that is meant "
                "(无法与正式版本在同一回测期比较)",
            )
        if compared != current:
            return Decision(
                False,
                f"version {version} was not evaluated against the current champion {current} "
                "on the same "
                "backtest: train again, or use --force --reason (未与当前正式版本比较)",
            )
        new = (float(tags["backtest_roc_auc"]), float(tags["backtest_precision_at_capacity"]))
        old = (
            float(tags["champion_backtest_roc_auc"]),
            float(tags["champion_backtest_precision_at_capacity"]),
        )
        if not (new[0] > old[0] and new[1] >= old[1]):
            return Decision(
                False,
                f"version {version} does not beat champion {current} on the same backtest "
                f"(ROC-AUC {new[0]:.4f} vs {old[0]:.4f}, "
                f"precision at capacity {new[1]:.4f} vs {old[1]:.4f}; 未优于正式版本); to put "
                "it in anyway, promote it with --force --reason",
            )
    client.set_registered_model_alias(name, CHAMPION, version)
    if current is not None:
        client.set_registered_model_alias(name, PREVIOUS, current)
    if alias_version(client, target, CHALLENGER) == version:
        client.delete_registered_model_alias(name, CHALLENGER)
    record = {
        "promoted_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "promoted_by": getpass.getuser(),
        "promotion_forced": str(force).lower(),
        "promotion_reason": reason
        or ("beats the champion on the same backtest" if current else "first champion"),
        "previous_champion": current or "",
    }
    for key, value in record.items():
        client.set_model_version_tag(name, version, key, value)
    return Decision(
        True,
        f"{name}: version {version} is now the champion (was {current or 'none'}; 已成为正式版本)"
        + _promoted_figures(tags, current),
    )


def _promoted_figures(tags: dict[str, str], current: str | None) -> str:
    """The figures behind a promotion, said with it; a first champion beside the office's
    rule on its backtest, with a warning when it does not beat it (it had no champion to
    beat, and was put in all the same)."""
    if "backtest_precision_at_capacity" not in tags:
        return ""
    mine = float(tags["backtest_precision_at_capacity"])
    said = f"; backtest precision at capacity {mine:.4f}"
    if current is not None and "champion_backtest_precision_at_capacity" in tags:
        theirs = float(tags["champion_backtest_precision_at_capacity"])
        return said + f" against champion {current}'s {theirs:.4f}"
    if "office_rule_precision_at_capacity" not in tags:
        return said
    rule = float(tags["office_rule_precision_at_capacity"])
    said += f" against the office rule's {rule:.4f}"
    if mine <= rule:
        said += (
            "\nwarning 警告: it does not beat the office's own rule on its backtest: read the "
            "report's first section before the office works from its list (未优于现行办法)"
        )
    return said


def mark_challenger(client: MlflowClient, target: str, version: str) -> None:
    """The newly trained version is the challenger: scored in shadow until promoted."""
    client.set_registered_model_alias(model_name(target), CHALLENGER, version)


def rollback(client: MlflowClient, target: str, reason: str) -> Decision:
    """Move ``champion`` back to the ``previous`` version; the replaced one becomes
    ``previous`` (a second rollback undoes the first). Refused when the previous
    version can no longer serve."""
    name = model_name(target)
    current, previous = champion_version(client, target), alias_version(client, target, PREVIOUS)
    if previous is None:
        return Decision(
            False,
            f"{name} has no previous champion to return to: to serve another version, "
            "promote it (`earlywarn models` lists them) (没有可回退的上一版本)",
        )
    try:
        load(target, previous)
    except ModelRejectedError as error:
        return Decision(False, f"refused 拒绝: version {previous} cannot serve: {error}")
    client.set_registered_model_alias(name, CHAMPION, previous)
    if current is not None:
        client.set_registered_model_alias(name, PREVIOUS, current)
    record = {
        "rolled_back_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "rolled_back_by": getpass.getuser(),
        "rollback_reason": reason,
        "rolled_back_from": current or "",
    }
    for key, value in record.items():
        client.set_model_version_tag(name, previous, key, value)
    return Decision(
        True, f"{name}: version {previous} is the champion again (was {current}; 已回退)"
    )
