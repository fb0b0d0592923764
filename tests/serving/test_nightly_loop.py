"""Sixty simulated nights through ``earlywarn daily``: the export of each night, a list
every day (a missed night caught up), monitoring that stays quiet until the world
shifts (a plant closes: one category's cases multiply) and then alerts, a challenger
retrained on the weekday, scored in shadow and judged on matured lists, and a
rollback. Slow: about five minutes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.contract.rules import end_of_day
from earlywarn.models import registry
from earlywarn.serving.store import AuditRecord, DailyRun, MonitorCheck, RiskList, open_store
from earlywarn.settings import load_settings
from earlywarn.simulator.run import SimulationConfig, Surge, simulate

pytestmark = pytest.mark.slow
runner = CliRunner()
FIRST = dt.date(2024, 5, 1)
NIGHTS = 60
SURGE = Surge("enterprise_restructuring", FIRST + dt.timedelta(days=20), 100.0)
MISSED = 10  # the machine was off that night
MOMENT = {"cases": "registered_at", "contacts": "occurred_at", "actions": "occurred_at"}


def export_night(
    tables: dict[str, pl.DataFrame], calendar: object, day: dt.date, out: Path
) -> None:
    """What the office's system holds at the end of ``day``."""
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.filter(pl.col(MOMENT[name]) <= end_of_day(day)).write_parquet(out / f"{name}.parquet")
    (out / "calendar.yaml").write_text(yaml.safe_dump(calendar, allow_unicode=True), "utf-8")


def cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_sixty_nights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EARLYWARN_WORK_DIR", str(tmp_path / "work"))
    monkeypatch.setenv("EARLYWARN_LOG_LEVEL", "WARNING")
    end = FIRST + dt.timedelta(days=NIGHTS)
    config = SimulationConfig(cases=2500, start=dt.date(2023, 1, 1), end=end, seed=5, surge=SURGE)
    world = simulate(config)
    export = tmp_path / "export"
    export_night(world.tables, world.calendar, FIRST - dt.timedelta(days=1), export)
    cli("train", "--data", str(export))
    for target in ("escalation", "collective"):
        cli("promote", "--target", target, "--version", "1")
    days = [FIRST + dt.timedelta(days=n) for n in range(NIGHTS)]
    for n, day in enumerate(days):
        if n == MISSED:
            continue
        export_night(world.tables, world.calendar, day, export)
        catch_up = ["--catch-up"] if n == MISSED + 1 else []
        cli("daily", "--source", str(export), "--date", day.isoformat(), *catch_up)

    settings = load_settings()
    with open_store(settings)() as session:
        built = set(session.scalars(select(RiskList.list_date)))
        runs = session.scalars(select(DailyRun)).all()
        category = dict(
            session.execute(
                select(MonitorCheck.day, MonitorCheck.status).where(
                    MonitorCheck.check == "input_psi", MonitorCheck.subject == "category"
                )
            ).all()
        )
        judged = session.scalars(
            select(AuditRecord.result).where(AuditRecord.action == "model.challenge")
        ).all()
    assert built == set(days)  # every night, the missed one caught up
    assert len(runs) == NIGHTS - 1 and {r.outcome for r in runs} == {"ok"}
    caught = json.loads(runs[MISSED].counts)["days"]
    assert [d["day"] for d in caught] == [str(days[MISSED]), str(days[MISSED + 1])]
    quiet = [category[d] for d in days if d < SURGE.start]
    assert set(quiet) == {"ok"}, quiet  # quiet before the plant closed
    assert category[days[-1]] == "alert"  # and an alert once its cases pile up
    first_alert = min(d for d in days if category[d] == "alert")
    assert first_alert > SURGE.start

    # The weekday's challenger was scored in shadow and judged on its matured days.
    assert judged, "a challenger was judged"
    client = registry.connect(settings)
    for target in ("escalation", "collective"):
        name = registry.model_name(target)
        for version in client.search_model_versions(f"name='{name}'"):
            tags = version.tags
            if "is now the champion" in tags.get("challenge_verdict", ""):
                assert float(tags["matured_roc_auc"]) > float(tags["champion_matured_roc_auc"])
        if registry.alias_version(client, target, registry.PREVIOUS):
            before = registry.champion_version(client, target)
            cli("rollback", "--target", target, "--reason", "drill")
            assert registry.alias_version(client, target, registry.PREVIOUS) == before
