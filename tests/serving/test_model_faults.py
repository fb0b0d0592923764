"""A broken model must never serve: promote refuses it, the service keeps the old one.

Each damaged version is registered the way someone with write access to the artifact
store could (its digest recorded over the damaged files), so only the checks stand
between it and the office.
"""

from __future__ import annotations

import concurrent.futures
import json
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from mlflow.tracking import MlflowClient
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.contract import Dataset
from earlywarn.models import registry
from earlywarn.models.check import ModelRejectedError, artifact_digest
from earlywarn.resources import sample_dataset
from earlywarn.serving.access import Role, create_key
from earlywarn.serving.scorer import WARM_UP, Scorer
from earlywarn.settings import Settings
from earlywarn.training import registry as training_registry
from tests.serving.helpers import (
    case_body,
    edit_meta,
    register_damaged,
    running_service,
    truncate_booster,
)

# Fault drills: each damaged version is registered and checked in a child process
# (seconds each), so they run in the slow suite, which CI runs too.
pytestmark = pytest.mark.slow
DAMAGES: dict[str, Callable[[Path], None]] = {
    "truncated booster": truncate_booster,
    "threshold as text": edit_meta(threshold="high"),
    "calibrator y shorter than x": edit_meta(calibrator_y=True),
    "unknown target": edit_meta(target="weather"),
}


@pytest.fixture(scope="module")
def damaged(settings: Settings) -> dict[str, str]:
    """One damaged version of the collective model per kind of damage."""
    registry.connect(settings)
    champion, _ = registry.load("collective")
    return {
        kind: register_damaged("collective", damage, champion) for kind, damage in DAMAGES.items()
    }


@pytest.mark.parametrize("kind", list(DAMAGES))
def test_promote_refuses_a_broken_version_even_forced(
    settings: Settings, damaged: dict[str, str], kind: str
) -> None:
    client = registry.connect(settings)
    before = registry.champion_version(client, "collective")
    decision = training_registry.promote(
        client, "collective", damaged[kind], force=True, reason="fault drill"
    )
    assert not decision.promoted and decision.message.startswith("refused")
    assert registry.champion_version(client, "collective") == before


def test_an_artifact_changed_after_registration_is_refused(settings: Settings) -> None:
    """Someone rewrites a registered artifact in the store, keeping it a valid artifact:
    the digest recorded at registration no longer matches, and nothing loads it."""
    client = registry.connect(settings)
    # A sound copy, made unique so that its files are told apart from the champion's.
    version = register_damaged("collective", edit_meta(meta={"copy": uuid.uuid4().hex}))
    registry.load("collective", version)
    recorded = client.get_model_version(registry.model_name("collective"), version).tags[
        registry.DIGEST_TAG
    ]
    stored = [
        path
        for path in settings.work_dir.glob("mlartifacts/**/risk_model/model.json")
        if artifact_digest(path.parent) == recorded
    ]
    assert len(stored) == 1, "the registered artifact was not found once in the store"
    meta = json.loads(stored[0].read_text(encoding="utf-8"))
    meta["threshold"] = meta["medium_threshold"]  # still valid, but another model
    stored[0].write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelRejectedError, match="differs from the one registered"):
        registry.load("collective", version)
    decision = training_registry.promote(client, "collective", version, force=True, reason="x")
    assert not decision.promoted and "differs" in decision.message


def test_an_artifact_whose_files_are_gone_is_refused_in_words(settings: Settings) -> None:
    """The artifact store lost a version's files (a disk cleaned, a bucket emptied)."""
    client = registry.connect(settings)
    version = register_damaged("collective", edit_meta(meta={"copy": uuid.uuid4().hex}))
    recorded = client.get_model_version(registry.model_name("collective"), version).tags[
        registry.DIGEST_TAG
    ]
    folder = next(
        path.parent
        for path in settings.work_dir.glob("mlartifacts/**/risk_model/model.json")
        if artifact_digest(path.parent) == recorded
    )
    shutil.rmtree(folder)
    with pytest.raises(ModelRejectedError, match="cannot be read from the artifact store") as said:
        registry.load("collective", version)
    assert "moved" not in str(said.value)  # the store is there: one version's files went


def test_a_moved_work_directory_is_named_as_the_likely_cause(tmp_path: Path) -> None:
    """Moving the work directory broke every run with "files cannot be read" and no
    reason (a nightly operator's report): the registry keeps absolute paths."""
    from types import SimpleNamespace

    gone = tmp_path / "old-place" / "mlartifacts"
    client = SimpleNamespace(  # only the experiment's recorded place is read
        get_experiment_by_name=lambda name: SimpleNamespace(artifact_location=f"file://{gone}")
    )
    said = registry._moved_store(client)  # type: ignore[arg-type]
    assert str(gone) in said and "was the work directory moved?" in said
    gone.mkdir(parents=True)
    assert registry._moved_store(client) == ""  # type: ignore[arg-type]


def test_promote_names_an_unknown_version(settings: Settings) -> None:
    client = registry.connect(settings)
    decision = training_registry.promote(client, "collective", "9999", force=True, reason="x")
    assert not decision.promoted and "no version 9999" in decision.message


def test_the_scorer_keeps_the_old_model_and_says_why(
    settings: Settings, sample: Dataset, damaged: dict[str, str]
) -> None:
    client = registry.connect(settings)
    good = registry.champion_version(client, "collective")
    scorer = Scorer(settings, sample_dataset())
    scorer.load_sources(sample)
    assert scorer.refresh_models()
    serving = scorer.versions
    name = registry.model_name("collective")
    try:
        for kind, version in damaged.items():
            client.set_registered_model_alias(name, registry.CHAMPION, version)  # by hand
            assert not scorer.refresh_models(), kind
            assert scorer.versions == serving
            assert scorer.refusals["collective"]["version"] == version
            assert scorer.score(WARM_UP).model_versions == serving
            assert not scorer.refresh_models()  # a refused version is not tried again
    finally:
        client.set_registered_model_alias(name, registry.CHAMPION, str(good))
    assert not scorer.refresh_models()
    assert scorer.refusals == {} and scorer.versions == serving
    assert scorer.refusal_count == len(damaged)


def test_the_list_job_refuses_a_broken_champion_with_a_message(
    settings: Settings, damaged: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = registry.connect(settings)
    good = registry.champion_version(client, "collective")
    name = registry.model_name("collective")
    monkeypatch.setenv("EARLYWARN_WORK_DIR", str(settings.work_dir))
    client.set_registered_model_alias(name, registry.CHAMPION, damaged["truncated booster"])
    try:
        args = ["risk-list", "--data", str(sample_dataset()), "--date", "2025-10-30"]
        result = CliRunner().invoke(app, args)
    finally:
        client.set_registered_model_alias(name, registry.CHAMPION, str(good))
    assert result.exit_code == 1
    assert "truncated or damaged" in result.output


def test_scoring_under_load_survives_broken_promotions(
    settings: Settings, sessions: sessionmaker[Session], damaged: dict[str, str]
) -> None:
    """~500 score calls while a truncated booster and then a bad threshold become the
    champion by hand and the alias moves back: no failed request, the old model
    throughout, and the refusals on /ready and in /metrics."""
    with sessions.begin() as db:
        token = create_key(db, Role.CASE_SYSTEM, label="fault drill").token
    client = MlflowClient()
    registry.connect(settings)
    name = registry.model_name("collective")
    good = str(registry.champion_version(client, "collective"))
    body = case_body(_first_case())
    with running_service(settings, extra_env={"EARLYWARN_RELOAD_SECONDS": "0.5"}) as base:
        serving = httpx.get(f"{base}/ready").json()["models"]
        stop = time.monotonic() + 120

        def call(number: int) -> tuple[int, dict[str, str]]:
            if time.monotonic() > stop:
                return 0, {}
            answer = httpx.post(
                f"{base}/v1/score", json=body, headers={"X-API-Key": token}, timeout=30
            )
            time.sleep(0.02)
            versions = answer.json().get("model_versions", {}) if answer.is_success else {}
            return answer.status_code, versions

        def drill() -> list[dict[str, object]]:
            seen = []
            for kind in ("truncated booster", "threshold as text"):
                client.set_registered_model_alias(name, registry.CHAMPION, damaged[kind])
                seen.append(_wait_for_refusal(base, damaged[kind]))
            client.set_registered_model_alias(name, registry.CHAMPION, good)
            return seen

        with concurrent.futures.ThreadPoolExecutor(max_workers=5) as pool:
            drilled = pool.submit(drill)
            answers = list(pool.map(call, range(500)))
            refusals = drilled.result(timeout=120)
        metrics = httpx.get(f"{base}/metrics").text
    statuses = [status for status, _ in answers if status]
    assert len(statuses) >= 400 and set(statuses) == {200}
    assert all(versions == serving for _, versions in answers if versions)
    assert [r["version"] for r in refusals] == [
        damaged["truncated booster"],
        damaged["threshold as text"],
    ]
    assert "earlywarn_model_refusals 2.0" in metrics


def _first_case() -> str:
    from earlywarn.contract import load_dataset

    return str(load_dataset(sample_dataset()).cases["case_id"][0])


def _wait_for_refusal(base: str, version: str) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready = httpx.get(f"{base}/ready", timeout=10)
        assert ready.status_code == 200
        refused = ready.json()["refused"].get("collective")
        if refused and refused["version"] == version:
            return dict(refused)
        time.sleep(0.2)
    raise AssertionError(f"version {version} was not refused within 60 s")
