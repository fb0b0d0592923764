"""``earlywarn daily``: lists built and monitored, reruns safe, missed days caught up,
runs recorded and audited, one run at a time, failures said and the list kept.

The job runs in its own work directory (store, lists) against the registry of the
small test champions.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from sqlalchemy import select
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.contract import Dataset
from earlywarn.resources import sample_dataset
from earlywarn.serving.store import AuditRecord, MonitorCheck, RiskList, open_store
from earlywarn.settings import Settings
from tests.serving.helpers import NIGHT, daily, daily_runs

runner = CliRunner()


def _register_twin(
    settings: Settings, sample: Dataset, target: str
) -> tuple[MlflowClient, str, str]:
    """The champion's model registered again as a new version: (client, champion, twin)."""
    import mlflow

    from earlywarn.features.build import build_features
    from earlywarn.models import registry
    from earlywarn.training import registry as training_registry

    client = registry.connect(settings)
    champion = registry.champion_version(client, target)
    assert champion is not None
    model, _ = registry.load(target, champion)
    with mlflow.start_run():
        twin = training_registry.register(
            model, build_features(sample, [dt.datetime(2025, 11, 1)]).head(50), {}
        )
    return client, champion, twin


def test_a_night_then_a_rerun_then_missed_days_caught_up(nightly: Settings) -> None:
    code, output = daily("--date", (NIGHT - dt.timedelta(days=3)).isoformat())
    assert code == 0, output
    code, output = daily("--date", (NIGHT - dt.timedelta(days=3)).isoformat())
    assert code == 0 and "already stored, files checked" in output
    code, output = daily("--date", NIGHT.isoformat(), "--catch-up")
    assert code == 0, output
    with open_store(nightly)() as session:
        days = list(session.scalars(select(RiskList.list_date).order_by(RiskList.list_date)))
        monitored = set(session.scalars(select(MonitorCheck.day)))
        audited = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "daily.run")
        ).all()
    assert days == [NIGHT - dt.timedelta(days=n) for n in (3, 2, 1, 0)]
    assert monitored == set(days)
    runs = daily_runs(nightly)
    assert [r.outcome for r in runs] == ["ok", "ok", "ok"] and len(audited) == 3
    caught_up = json.loads(runs[-1].counts)["days"]
    assert [d["day"] for d in caught_up] == [str(NIGHT - dt.timedelta(days=n)) for n in (2, 1, 0)]
    assert all(r.finished_at and r.finished_at >= r.started_at for r in runs)
    assert "earlywarn-escalation" in runs[-1].model_versions


def test_two_runs_never_overlap(nightly: Settings) -> None:
    nightly.work_dir.mkdir(parents=True, exist_ok=True)
    with (nightly.work_dir / "daily.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a run in progress
        code, output = daily("--date", NIGHT.isoformat())
    assert code == 1 and "another daily run is in progress" in output
    assert daily_runs(nightly) == []  # the refused run did nothing


def test_a_broken_source_fails_clearly_and_keeps_the_last_list(
    nightly: Settings, tmp_path: Path
) -> None:
    assert daily("--date", NIGHT.isoformat())[0] == 0
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "cases.csv").write_text("case_id,petitioner_id\nC1,P1\n", encoding="utf-8")
    code, output = daily(
        "--date", (NIGHT + dt.timedelta(days=1)).isoformat(), "--source", str(broken)
    )
    assert code == 1 and "failed" in output
    runs = daily_runs(nightly)
    assert [r.outcome for r in runs] == ["ok", "failed"] and runs[-1].message
    with open_store(nightly)() as session:
        assert list(session.scalars(select(RiskList.list_date))) == [NIGHT]


def test_rollback_returns_to_the_previous_champion_while_the_service_answers(
    settings: Settings, sample: Dataset, nightly: Settings
) -> None:
    from earlywarn.models import registry
    from earlywarn.serving.main import WARM_UP
    from earlywarn.serving.scorer import Scorer
    from earlywarn.training import registry as training_registry

    scorer = Scorer(settings, sample_dataset())
    scorer.load_sources(sample)
    scorer.refresh_models()
    target = "escalation"
    client, original, newer = _register_twin(settings, sample, target)
    assert training_registry.promote(client, target, newer, force=True, reason="drill").promoted
    assert registry.alias_version(client, target, registry.PREVIOUS) == original
    assert scorer.refresh_models() and scorer.versions[target].endswith(f"/{newer}")
    result = runner.invoke(app, ["rollback", "--target", target, "--reason", "drill: back"])
    assert result.exit_code == 0, result.output
    assert registry.champion_version(client, target) == original
    assert registry.alias_version(client, target, registry.PREVIOUS) == newer
    assert scorer.score(WARM_UP).model_versions[target].endswith(f"/{newer}")  # still answers
    assert scorer.refresh_models() and scorer.versions[target].endswith(f"/{original}")
    with open_store(nightly)() as session:
        rolled = session.scalars(
            select(AuditRecord.result).where(AuditRecord.action == "model.rollback")
        ).all()
    assert rolled and rolled[-1].startswith("reason: drill: back; ")  # the why, in the chain
    blank = runner.invoke(app, ["rollback", "--target", target, "--reason", "  "])
    assert blank.exit_code == 2 and "回滚须说明原因" in blank.output
    forced = ["promote", "--target", target, "--version", newer, "--force", "--reason", " "]
    assert runner.invoke(app, forced).exit_code == 2  # a blank reason is no reason
    other = registry.model_name("collective")
    if registry.alias_version(client, "collective", registry.PREVIOUS):  # an earlier test's
        client.delete_registered_model_alias(other, registry.PREVIOUS)
    refused = runner.invoke(app, ["rollback", "--target", "collective", "--reason", "none kept"])
    assert refused.exit_code == 1 and "no previous champion" in refused.output


@pytest.mark.slow
def test_the_retrain_weekday_registers_challengers_and_leaves_the_champions(
    settings: Settings, nightly: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from earlywarn.models import registry

    monkeypatch.setenv("EARLYWARN_RETRAIN_WEEKDAY", "6")
    client = registry.connect(settings)
    champions = {t: registry.champion_version(client, t) for t in ("escalation", "collective")}
    sunday = dt.date(2025, 11, 2)
    code, output = daily("--date", sunday.isoformat())
    assert code == 0 and "challengers" in output, output
    again = daily("--date", sunday.isoformat())[1]
    assert "challengers" not in again  # once per day
    for target, champion in champions.items():
        challenger = registry.alias_version(client, target, registry.CHALLENGER)
        assert challenger is not None and challenger != champion
        assert registry.champion_version(client, target) == champion
        # Leave the shared registry as it was: later tests judge challengers of their own.
        client.delete_registered_model_alias(registry.model_name(target), registry.CHALLENGER)
    assert json.loads(daily_runs(nightly)[0].counts)["retrained"]


def test_missed_days_are_said_a_caught_up_week_retrains_and_an_unmonitored_day_is_redone(
    nightly: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A nightly operator's findings: a night run after missed ones said nothing of them;
    a catch-up over the retraining day never retrained; a run killed before its
    monitoring left that day unmonitored for good; the retraining day passed silently
    while a challenger waited."""
    from sqlalchemy import delete

    from earlywarn.commands import nightly as nightly_job
    from earlywarn.contract.rules import end_of_day

    monkeypatch.setenv("EARLYWARN_RETRAIN_WEEKDAY", "6")  # Sunday
    retrained: list[dt.datetime] = []
    monkeypatch.setattr(nightly_job, "_pending", lambda models: False)
    monkeypatch.setattr(  # the retraining itself is the weekday test's (above)
        nightly_job, "retrain_challengers",
        lambda settings, dataset, until: retrained.append(until) or {"escalation": "9"},
    )  # fmt: skip
    friday, sunday = dt.date(2025, 10, 31), dt.date(2025, 11, 2)
    saturday, monday = sunday - dt.timedelta(days=1), sunday + dt.timedelta(days=1)
    assert daily("--date", friday.isoformat())[0] == 0
    code, output = daily("--date", saturday.isoformat())
    assert code == 0 and "no list for" not in output
    with open_store(nightly).begin() as session:  # killed before Saturday's monitoring
        session.execute(delete(MonitorCheck).where(MonitorCheck.day == saturday))
    code, output = daily("--date", monday.isoformat(), "--catch-up")
    assert code == 0, output
    assert retrained == [end_of_day(monday)]  # Sunday was among the days caught up
    with open_store(nightly)() as session:
        monitored = set(session.scalars(select(MonitorCheck.day)))
    assert {saturday, sunday, monday} <= monitored  # Saturday redone by the catch-up
    thursday = monday + dt.timedelta(days=3)
    code, output = daily("--date", thursday.isoformat())
    assert code == 0 and f"no list for the 2 day(s) from {monday + dt.timedelta(1)} to" in output
    assert len(retrained) == 1  # Thursday alone: no retraining day among the days built
    monkeypatch.setattr(nightly_job, "_pending", lambda models: True)
    monkeypatch.setattr(nightly_job, "_retrained_already", lambda sessions, day: False)
    code, output = daily("--date", (sunday + dt.timedelta(days=7)).isoformat())
    assert code == 0 and "retraining skipped" in output and len(retrained) == 1

    def read_only(*args: object) -> None:  # a risk-lists folder mounted read-only
        raise OSError(30, "Read-only file system", str(nightly.work_dir / "risk-lists"))

    monkeypatch.setattr(nightly_job, "build_risk_list", read_only)
    code, output = daily("--date", (sunday + dt.timedelta(days=8)).isoformat())
    assert code == 1 and "files cannot be written: Read-only file system" in output
    assert "Traceback" not in output


def test_the_verdict_on_matured_lists() -> None:
    from earlywarn.commands.challenge import Figures, verdict

    champion = Figures(roc_auc=0.80, precision=0.30, ece=0.010, county_ratio=1.5)
    better = Figures(roc_auc=0.82, precision=0.31, ece=0.012, county_ratio=1.6)
    assert verdict(champion, better) is None
    assert "ROC-AUC" in (verdict(champion, better.__class__(0.80, 0.31, 0.01, 1.5)) or "")
    assert "precision" in (verdict(champion, Figures(0.85, 0.29, 0.01, 1.5)) or "")
    assert "calibration" in (verdict(champion, Figures(0.85, 0.31, 0.05, 1.5)) or "")
    assert "counties" in (verdict(champion, Figures(0.85, 0.31, 0.01, 2.5)) or "")


@pytest.mark.slow
def test_the_challenger_is_scored_in_shadow_and_judged_once_its_days_matured(
    settings: Settings, sample: Dataset, nightly: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from earlywarn.models import registry
    from earlywarn.serving.list_files import list_folder
    from earlywarn.serving.shadow import SHADOW_FILE
    from earlywarn.training import registry as training_registry

    target = "collective"
    client, champion, twin = _register_twin(settings, sample, target)
    training_registry.mark_challenger(client, target, twin)
    monkeypatch.setenv("EARLYWARN_RETRAIN_WEEKDAY", "2")  # Wednesday: none of the days asked
    try:
        first = dt.date(2025, 9, 1)
        assert daily("--date", first.isoformat())[0] == 0
        code, output = daily("--date", (first + dt.timedelta(days=6)).isoformat(), "--catch-up")
        assert code == 0, output
        assert (list_folder(nightly, first) / SHADOW_FILE).exists()
        code, output = daily("--date", (first + dt.timedelta(days=40)).isoformat())
        assert code == 0, output
        # The challenger is the champion's twin: it cannot rank better, so it retires.
        assert f"version {twin} is not promoted: its ROC-AUC" in output
        assert registry.champion_version(client, target) == champion
        assert registry.alias_version(client, target, registry.CHALLENGER) is None
        tags = client.get_model_version(registry.model_name(target), twin).tags
        assert int(tags["matured_days"]) == 7
        assert float(tags["matured_roc_auc"]) == pytest.approx(
            float(tags["champion_matured_roc_auc"])
        )
    finally:  # leave the shared registry without a challenger whatever happened
        if registry.alias_version(client, target, registry.CHALLENGER):
            client.delete_registered_model_alias(registry.model_name(target), registry.CHALLENGER)
