"""Monitoring: drift measures, thresholds, data quality, matured lists, stored per day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.contract import Dataset
from earlywarn.contract.rules import DEFAULT_HORIZON_DAYS, TARGETS, end_of_day
from earlywarn.features.build import build_features
from earlywarn.features.catalogue import FEATURES
from earlywarn.models.reference import DRIFT_KEY, drift_reference, shares_of
from earlywarn.models.registry import LoadedModels
from earlywarn.serving.monitor.checks import AGE_CLOCKS, Check, status_of, worst
from earlywarn.serving.monitor.drift import (
    SCORE_HISTORY_LEAST,
    input_drift,
    js_distance,
    psi,
    score_drift,
)
from earlywarn.serving.monitor.quality import data_quality, matured_performance
from earlywarn.serving.monitor.run import monitor_day
from earlywarn.serving.risk_list import build_risk_list
from earlywarn.serving.store import (
    AuditRecord,
    DailyRun,
    MonitorCheck,
    RiskList,
    RiskListItem,
    open_store,
)
from earlywarn.settings import Settings, load_settings

DAY = dt.date(2025, 10, 31)


def test_psi_and_js_are_zero_for_the_same_shares_and_grow_with_a_shift() -> None:
    same = np.array([0.25, 0.25, 0.25, 0.25])
    assert psi(same, same) == 0 and js_distance(same, same) == 0
    moved = np.array([0.05, 0.15, 0.3, 0.5])
    assert psi(same, moved) > 0.25 and 0 < js_distance(same, moved) < 1
    assert status_of("input_psi", 0.05) == "ok"
    assert status_of("input_psi", 0.1) == "warn"
    assert status_of("input_psi", 0.3) == "alert"
    assert worst(["ok", "alert", "warn"]) == "alert" and worst([]) == "ok"


def test_frozen_bins_read_numbers_codes_and_missing_values() -> None:
    frame = pl.DataFrame(
        {
            "n": [0.0, 0.0, 1.0, 2.0, None, 5.0, 9.0, 9.0],
            "c": ["a", "b", "a", None, "a", "b", "a", "a"],
        }
    )
    reference = drift_reference(frame, ["n", "c"])
    for name, entry in reference.items():
        assert sum(entry["shares"]) == pytest.approx(1.0), name
        assert entry["shares"][-1] == pytest.approx(1 / 8)  # one missing of eight
    assert reference["c"]["categories"] == ["a", "b"]
    unseen = shares_of(reference["c"], pl.Series(["z", "z", "a", "a"]))
    assert unseen.tolist() == [0.5, 0.0, 0.5, 0.0]  # a code not seen in training: its own bin


def test_a_shifted_feature_alerts_and_the_others_stay_quiet(
    sample: Dataset, champions: LoadedModels
) -> None:
    features = build_features(sample, [end_of_day(DAY)])
    assert all(DRIFT_KEY in m.meta for m in champions.models.values())
    before = {c.subject: c for c in input_drift(champions, features)}
    shifted = features.with_columns(pl.col("contacts_90d") * 6 + 3)
    after = {c.subject: c for c in input_drift(champions, shifted)}
    assert after["contacts_90d"].status == "alert"
    assert after["contacts_90d"].value > before["contacts_90d"].value  # type: ignore[operator]
    unchanged = [s for s in before if s != "contacts_90d"]
    assert all(after[s].value == before[s].value for s in unchanged)


def test_days_inside_the_training_period_raise_no_input_alert(
    sample: Dataset, champions: LoadedModels
) -> None:
    """The features shared by a county's cases or a unit's (a handful of values a day)
    alerted on every day of the training period itself: not judged, like the calendar."""
    for day in (dt.date(2025, 10, 15), DAY):
        checks = input_drift(champions, build_features(sample, [end_of_day(day)]))
        subjects = {c.subject for c in checks}
        assert "county_family_contact_surge" not in subjects and "as_of_month" not in subjects
        assert "category" in subjects and len(subjects) > 40
        assert [c.subject for c in checks if c.status == "alert"] == [], day


def test_the_features_that_only_count_a_cases_age_are_judged_as_backlog(
    sample: Dataset, champions: LoadedModels
) -> None:
    """Two months after the sample's validation period, the open cases are older: the
    age clocks drift (PSI above the warning bound) while nothing else does. They are
    judged as the backlog, with how much older the cases are, not as model drift."""
    day = dt.date(2025, 12, 31)
    checks = {
        c.subject: c for c in input_drift(champions, build_features(sample, [end_of_day(day)]))
    }
    for clock in AGE_CLOCKS:
        found = checks[clock]
        assert found.check == "backlog_psi" and found.kind == "backlog", clock
        assert found.status == status_of("input_psi", found.value) != "ok", clock
        assert found.detail["beyond_p90_today"] > found.detail["beyond_p90_reference"], clock
        assert found.detail["median_today"] > 0
    drifting = [c.subject for c in checks.values() if c.kind == "model" and c.status != "ok"]
    assert drifting == []
    assert worst([c.status for c in checks.values() if c.kind != "backlog"]) == "ok"


def test_the_age_clocks_are_every_feature_that_rises_by_one_each_day_a_case_is_open(
    sample: Dataset,
) -> None:
    """Over 30 days, the features that grew by exactly 30 for every case open at both
    moments are the age clocks, and no other one."""
    start, gap = end_of_day(dt.date(2025, 6, 1)), 30
    both = build_features(sample, [start, start + dt.timedelta(days=gap)])
    before = both.filter(pl.col("as_of") == start)
    after = both.filter(pl.col("as_of") > start)
    joined = before.join(after, on="case_id", suffix="_later")
    assert joined.height > 1000
    clocks = set()
    for spec in FEATURES:
        if spec.categorical or not joined[spec.name].dtype.is_numeric():
            continue
        grown = (joined[f"{spec.name}_later"] - joined[spec.name]).cast(pl.Float64).drop_nulls()
        if grown.len() == joined.height and bool(((grown - gap).abs() < 1e-9).all()):
            clocks.add(spec.name)
    assert clocks == AGE_CLOCKS


def test_score_drift_is_judged_against_the_earlier_days() -> None:
    history = {("share_flagged", "collective"): [0.020, 0.021, 0.019, 0.020, 0.022, 0.018, 0.020]}
    usual = score_drift([Check("share_flagged", "collective", 0.021, "ok")], history)
    jump = score_drift([Check("share_flagged", "collective", 0.06, "ok")], history)
    young = score_drift([Check("share_flagged", "collective", 0.06, "ok")], {})
    assert usual[0].status == "ok" and jump[0].status == "alert"
    assert young[0].value is None and young[0].status == "ok"
    assert "too few" in young[0].detail["note"]
    # not judged yet, and what it waits for: the page says so instead of "normal"
    assert young[0].waiting and not young[0].judged
    assert young[0].detail["waits_for"] == "earlier_days"
    assert young[0].detail["needs"] == SCORE_HISTORY_LEAST and young[0].detail["days"] == 0


def test_a_late_export_is_an_alert(sample: Dataset) -> None:
    newest = sample.contacts["occurred_at"].max()
    assert isinstance(newest, dt.datetime)
    fresh = {c.subject: c for c in data_quality(sample, newest + dt.timedelta(days=1))}
    late = {c.subject: c for c in data_quality(sample, newest + dt.timedelta(days=20))}
    assert fresh["contacts"].status == fresh["actions"].status == "ok"
    assert late["contacts"].status == late["actions"].status == "alert"
    assert fresh["cases"].value == 0.0  # the sample loads without quarantine
    # An export whose handling steps were left out (the header alone) beside fresh
    # contacts read as fresh, and the verdict blamed the model: retrain.
    from dataclasses import replace

    from earlywarn.serving.monitor.verdict import verdict_of

    assert sample.actions is not None
    no_steps = replace(sample, actions=sample.actions.head(0))
    checks = {c.subject: c for c in data_quality(no_steps, newest + dt.timedelta(days=1))}
    assert checks["contacts"].status == "ok" and checks["actions"].status == "alert"
    assert checks["actions"].judged and checks["actions"].detail["newest"] is None
    assert verdict_of(list(checks.values())).state == "fix_import"


def test_a_day_is_stored_replaced_on_rerun_audited_and_judges_a_matured_list(
    tmp_path_factory: pytest.TempPathFactory, sample: Dataset, champions: LoadedModels
) -> None:
    settings = load_settings(work_dir=tmp_path_factory.mktemp("monitor"))
    sessions = open_store(settings)
    build_risk_list(settings, sample, DAY - dt.timedelta(days=40), sessions, champions)
    first = monitor_day(settings, sample, DAY, sessions, champions)
    again = monitor_day(settings, sample, DAY, sessions, champions)
    with sessions() as session:
        stored = session.scalar(select(func.count()).select_from(MonitorCheck))
        runs = session.scalar(
            select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "monitor.run")
        )
    assert stored == len(again.checks) == len(first.checks) and runs == 2
    matured = {c.check: c for c in first.checks if c.subject.startswith("collective@")}
    assert set(matured) == {
        "matured_precision", "matured_precision_acted", "matured_precision_not_acted",
        "matured_recall", "matured_auc", "calibration_gap", "precision_shortfall",
    }  # fmt: skip
    assert matured["matured_precision_acted"].value is None  # nothing was acted on
    assert matured["matured_precision_not_acted"].value == matured["matured_precision"].value
    assert 0.5 < (matured["matured_auc"].value or 0) <= 1
    assert matured["calibration_gap"].detail["bands"]
    # the promise is the stored list's own: the mean probability of its flagged cases
    with sessions() as session:
        header = session.scalars(select(RiskList)).one()
        flagged = session.scalars(
            select(RiskListItem.collective_probability).where(
                RiskListItem.list_id == header.id, RiskListItem.collective_flag.is_(True)
            )
        ).all()
    compared = matured["precision_shortfall"]
    assert compared.detail["cases"] == len(flagged) and compared.detail["acted"] == 0
    assert compared.detail["expected"] == pytest.approx(float(np.mean(flagged)), abs=1e-6)
    assert compared.detail["observed"] == pytest.approx(matured["matured_precision"].value)
    assert compared.value == pytest.approx(
        compared.detail["expected"] - compared.detail["observed"]
    )
    assert compared.detail["low"] <= compared.detail["observed"] <= compared.detail["high"]
    kinds = {c.check for c in first.checks}
    assert {"input_psi", "share_flagged", "score_shift", "expected_precision"} <= kinds


def test_before_a_list_has_matured_precision_is_stored_as_not_judged_with_its_date(
    tmp_path_factory: pytest.TempPathFactory, sample: Dataset, champions: LoadedModels
) -> None:
    settings = load_settings(work_dir=tmp_path_factory.mktemp("young"))
    sessions = open_store(settings)
    listed = DAY - dt.timedelta(days=10)
    with sessions() as session:
        assert matured_performance(session, sample, end_of_day(DAY))[0].detail == {
            "waits_for": "matured_list", "first_list": None, "matures": None,
        }  # fmt: skip
    build_risk_list(settings, sample, listed, sessions, champions)
    result = monitor_day(settings, sample, DAY, sessions, champions)
    waiting = [c for c in result.checks if c.check == "precision_shortfall"]
    assert sorted(c.subject for c in waiting) == sorted(TARGETS)
    for check in waiting:
        assert check.waiting and check.value is None
        assert check.detail["first_list"] == listed.isoformat()
        matures = listed + dt.timedelta(days=DEFAULT_HORIZON_DAYS)
        assert check.detail["matures"] == matures.isoformat()
    assert not any(c.check.startswith("matured_") for c in result.checks)


def test_an_empty_list_that_matured_is_not_judged_and_stops_nothing(
    tmp_path_factory: pytest.TempPathFactory, sample: Dataset, champions: LoadedModels
) -> None:
    """A day before the data stores an empty list; the night its horizon ended died in
    monitoring on a join of an empty column of no type (a nightly operator's report)."""
    settings = load_settings(work_dir=tmp_path_factory.mktemp("empty"))
    sessions = open_store(settings)
    empty_day = dt.date(2020, 1, 1)
    assert build_risk_list(settings, sample, empty_day, sessions, champions).rows == 0
    with sessions() as session:
        found = matured_performance(session, sample, end_of_day(empty_day + dt.timedelta(40)))
    # No record in the data up to that day: no outcome is known, nothing is judged.
    assert all(check.waiting for check in found)


def test_the_latest_day_is_exported_as_gauges(
    client: TestClient,
    settings: Settings,
    sessions: sessionmaker[Session],
    sample: Dataset,
    champions: LoadedModels,
) -> None:
    monitor_day(settings, sample, DAY, sessions, champions)
    text = client.get("/metrics").text
    assert 'earlywarn_monitor_status{check="input_psi",subject="contacts_90d"}' in text
    assert 'earlywarn_monitor_status{check="newest_record_days"' in text
    assert "matured_auc" not in text  # informational measures are not gauges
    assert 'check="score_shift"' not in text  # not judged yet (no earlier day): no "ok"
    assert 'earlywarn_monitor_status{check="backlog_psi",subject="case_age_days"}' in text
    assert 'check="input_psi",subject="case_age_days"' not in text
    day_line = next(line for line in text.splitlines() if line.startswith("earlywarn_monitor_day"))
    assert float(day_line.split()[-1]) == dt.datetime(2025, 10, 31, tzinfo=dt.UTC).timestamp()


def test_the_nightly_runs_are_exported_as_gauges(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    def gauges() -> dict[str, float]:
        lines = client.get("/metrics").text.splitlines()
        return {
            line.split()[0]: float(line.split()[-1])
            for line in lines
            if line.startswith("earlywarn_daily_run")
        }

    assert gauges() == {"earlywarn_daily_run_last_ok_timestamp": 0.0}  # no run yet
    finished = dt.datetime(2025, 11, 1, 2, 40)  # naive UTC, as stored
    with sessions.begin() as session:
        session.add(DailyRun(day=DAY, outcome="ok", finished_at=finished))
        session.add(DailyRun(day=DAY, outcome="failed", finished_at=finished.replace(hour=3)))
    seen = gauges()
    assert (
        seen["earlywarn_daily_run_last_ok_timestamp"] == finished.replace(tzinfo=dt.UTC).timestamp()
    )
    assert seen['earlywarn_daily_run_outcome{outcome="failed"}'] == 1
    assert seen['earlywarn_daily_run_outcome{outcome="ok"}'] == 0
    with sessions.begin() as session:
        session.add(DailyRun(day=DAY, outcome="running"))
    assert gauges()['earlywarn_daily_run_outcome{outcome="running"}'] == 1


def test_the_monitoring_page_for_analysts_and_the_alert_in_their_header(
    client: TestClient,
    keys: dict[str, str],
    settings: Settings,
    sessions: sessionmaker[Session],
    sample: Dataset,
    champions: LoadedModels,
) -> None:
    monitor_day(settings, sample, DAY, sessions, champions)
    with sessions.begin() as session:  # one feature drifted: the day is an alert
        check = session.scalars(
            select(MonitorCheck).where(
                MonitorCheck.day == DAY, MonitorCheck.subject == "contacts_90d"
            )
        ).one()
        check.status, check.value = "alert", 0.9
    for role, allowed in (("analyst", True), ("admin", True), ("office", False)):
        browser = TestClient(client.app, follow_redirects=False)
        browser.post("/office/sign-in", data={"api_key": keys[role]})
        page = browser.get("/office/monitor")
        assert page.status_code == (200 if allowed else 403), role
        listed = browser.get("/office/list", params={"date": DAY.isoformat()})
        assert ('id="monitor-alert"' in listed.text) == allowed, role
        if allowed:
            assert "输入漂移（PSI）" in page.text and "contacts_90d" in page.text
            checks = page.text.split('id="checks"')[1].split("<tbody>")[1].split("</tbody>")[0]
            rows = checks.split("</tr>")[:-1]
            drifted = next(i for i, row in enumerate(rows) if "近90天来信来访次数" in row)
            alerts = [i for i, row in enumerate(rows) if 'class="status-alert"' in row]
            # Alerts first (another test's matured list may add one of its own).
            assert drifted in alerts and alerts == list(range(len(alerts)))
            verdict = page.text.split('id="verdict"')[1].split("</section>")[0]
            assert "重新训练" in verdict and "近90天来信来访次数" in verdict


def test_the_command_names_what_is_not_judged_yet(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A first monitored day printed "ok (79 checks, 0 not ok)" while six checks waited:
    a log reader took it as judged."""
    from typer.testing import CliRunner

    from earlywarn.cli import app
    from earlywarn.resources import sample_dataset

    monkeypatch.setenv("EARLYWARN_WORK_DIR", str(tmp_path))
    monkeypatch.setenv("EARLYWARN_MLFLOW_TRACKING_URI", settings.tracking_uri)  # the champions
    earlier = (DAY - dt.timedelta(days=DEFAULT_HORIZON_DAYS + 5)).isoformat()
    listed = CliRunner().invoke(
        app, ["risk-list", "--data", str(sample_dataset()), "--date", earlier]
    )
    assert listed.exit_code == 0, listed.output
    done = CliRunner().invoke(
        app, ["monitor", "--data", str(sample_dataset()), "--date", DAY.isoformat()]
    )
    assert done.exit_code == 0, done.output
    assert "not judged yet 尚未判断" in done.output
    assert "  waiting    " in done.output  # each, with what it waits for
    # How the matured list turned out, said (it was stored and only "ok" printed).
    assert f"matured    escalation@{earlier}" in done.output, done.output
    assert "flagged cases; 95% " in done.output


def test_a_list_matures_when_the_data_holds_its_outcomes_not_by_the_calendar(
    sample: Dataset, tmp_path: Path
) -> None:
    """An export that stopped let lists mature by the calendar with no outcome in the
    data: a challenger was judged on them (precision 0 of 70) and retired."""
    from earlywarn.serving.monitor.quality import matured_list, outcomes_known_until

    newest = sample.contacts["occurred_at"].max()
    assert isinstance(newest, dt.datetime)
    data_end = end_of_day(newest.date())
    weeks_later = data_end + dt.timedelta(days=60)  # the export stopped, the days went on
    assert outcomes_known_until(sample, weeks_later) == data_end
    assert outcomes_known_until(sample, data_end - dt.timedelta(days=3)) == (
        data_end - dt.timedelta(days=3)
    )  # never later than the day asked
    sessions = open_store(load_settings(work_dir=tmp_path))
    with sessions.begin() as session:
        for days_before in (40, 10):  # matured by the calendar both; by the data only one
            at = data_end - dt.timedelta(days=days_before)
            session.add(RiskList(list_date=at.date() - dt.timedelta(days=1), as_of=at,
                                 checksum="c", model_versions="v", rows=0))  # fmt: skip
    with sessions() as session:
        found = matured_list(session, outcomes_known_until(sample, weeks_later), 30)
        assert found is not None and found.as_of == data_end - dt.timedelta(days=40)
