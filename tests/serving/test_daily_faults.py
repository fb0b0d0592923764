"""The nightly job against what a real office's machine does to it: an export cut short,
rows that cannot be used, a table left out, a day with no open case, a run killed
half-way, a store locked by another process. Each night either does its work or says
why in one line, records it, and leaves the previous list serving."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.contract import Dataset
from earlywarn.resources import sample_dataset
from earlywarn.serving.store import DailyRun, MonitorCheck, RiskList, open_store
from earlywarn.settings import Settings
from earlywarn.simulator.office_files import SHEETS, write_office_export
from tests.serving.helpers import NIGHT, daily, daily_runs


def _export(sample: Dataset, out: Path, keep_contacts: float = 1.0) -> Path:
    """The sample as the office's GBK CSV export; ``keep_contacts`` < 1: the contacts file
    cut short (a transfer stopped half-way), every case still in it."""
    assert sample.actions is not None
    contacts = sample.contacts.head(int(sample.contacts.height * keep_contacts))
    tables = {"cases": sample.cases, "contacts": contacts, "actions": sample.actions}
    write_office_export(tables, out, "csv-gbk")
    return out


def test_an_export_cut_short_is_refused_and_the_list_kept(
    nightly: Settings, sample: Dataset, tmp_path: Path
) -> None:
    full = _export(sample, tmp_path / "monday" / "export")  # one name: one dataset
    code, output = daily("--source", str(full), "--date", NIGHT.isoformat())
    assert code == 0, output
    imported = json.loads(daily_runs(nightly)[-1].counts)["imported"]
    assert imported["contacts"]["read"] == sample.contacts.height
    assert imported["contacts"]["added"] == sample.contacts.height

    cut = _export(sample, tmp_path / "tuesday" / "export", keep_contacts=0.6)
    code, output = daily("--source", str(cut), "--date", (NIGHT + dt.timedelta(days=1)).isoformat())
    assert code == 1 and "this export would remove contacts:" in output, output
    assert "--accept-removals" in output and "Nothing was written" in output
    failed = daily_runs(nightly)[-1]
    assert failed.outcome == "failed" and "would remove contacts" in failed.message  # not "1"
    with open_store(nightly)() as session:
        assert list(session.scalars(select(RiskList.list_date))) == [NIGHT]
    target = nightly.work_dir / "imported" / "export"
    merged = target / "contacts.parquet"  # the refused night wrote nothing
    assert pl.read_parquet(merged).height == sample.contacts.height

    # Deletions that are real: accepted by hand, then the night runs.
    accepted = CliRunner().invoke(
        app, ["import", str(cut), "--out", str(target), "--accept-removals"]
    )
    assert accepted.exit_code == 0, accepted.output
    assert "no longer exported" in accepted.output


def test_the_night_says_what_the_export_added_and_when_it_holds_nothing_new(
    nightly: Settings, sample: Dataset, tmp_path: Path
) -> None:
    """The night printed read and quarantined only, and took yesterday's export left in
    the folder without a word (a nightly operator's report)."""
    full = _export(sample, tmp_path / "drop" / "export")
    code, output = daily("--source", str(full), "--date", NIGHT.isoformat())
    assert code == 0 and f"{sample.contacts.height:,} added, 0 changed" in output, output
    assert "holds nothing new" not in output
    code, output = daily("--source", str(full), "--date", NIGHT.isoformat())
    assert code == 0 and "0 added, 0 changed" in output
    assert "the export holds nothing new since the last import" in output


def test_exports_named_by_date_merge_under_the_import_name(
    nightly: Settings, sample: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A system that names each night's export by its date: said, and merged under
    ``import_name`` (so a cut-short export is caught against the nights before it)."""
    first = _export(sample, tmp_path / "export-20251031")
    code, output = daily("--source", str(first), "--date", NIGHT.isoformat())
    assert code == 0 and "carries a date" in output and "EARLYWARN_IMPORT_NAME" in output
    assert (nightly.work_dir / "imported" / "export-20251031").is_dir()  # kept apart

    monkeypatch.setenv("EARLYWARN_IMPORT_NAME", "office")
    code, output = daily("--source", str(first), "--date", NIGHT.isoformat())
    assert code == 0 and "carries a date" not in output, output
    cut = _export(sample, tmp_path / "export-20251101", keep_contacts=0.6)
    code, output = daily("--source", str(cut), "--date", (NIGHT + dt.timedelta(days=1)).isoformat())
    assert code == 1 and "this export would remove contacts:" in output, output
    merged = nightly.work_dir / "imported" / "office" / "contacts.parquet"
    assert pl.read_parquet(merged).height == sample.contacts.height


def test_rows_the_import_quarantines_reach_the_monitoring(
    nightly: Settings, sample: Dataset, tmp_path: Path
) -> None:
    export = _export(sample, tmp_path / "export")
    cases = export / f"{SHEETS['cases']}.csv"
    lines = cases.read_bytes().decode("gbk").splitlines()
    header = lines[0].split(",")
    column = next(i for i, name in enumerate(header) if name.startswith("登记"))
    broken = []
    for n, line in enumerate(lines):
        cells = line.split(",")
        if 0 < n <= 200 and len(cells) == len(header):
            cells[column] = "2024-13-45"  # no such month
        broken.append(",".join(cells))
    cases.write_bytes("\n".join(broken).encode("gbk"))
    code, output = daily("--source", str(export), "--date", NIGHT.isoformat())
    assert code == 0, output
    with open_store(nightly)() as session:
        share = session.scalar(
            select(MonitorCheck.value).where(
                MonitorCheck.check == "quarantine_share", MonitorCheck.subject == "cases"
            )
        )
    assert share is not None and share >= 200 / sample.cases.height


def test_an_export_without_its_cases_is_named(
    nightly: Settings, sample: Dataset, tmp_path: Path
) -> None:
    export = _export(sample, tmp_path / "export")
    (export / f"{SHEETS['cases']}.csv").unlink()
    code, output = daily("--source", str(export), "--date", NIGHT.isoformat())
    assert code == 1 and "required table not found" in output and "cases" in output


def test_a_day_without_open_cases_is_an_empty_list_and_an_alert(nightly: Settings) -> None:
    code, output = daily("--date", "2020-01-01")  # before the sample's first case
    assert code == 0, output
    assert "list 0 cases" in output
    with open_store(nightly)() as session:
        status = session.scalar(
            select(MonitorCheck.status).where(MonitorCheck.check == "scoring_population")
        )
    assert status == "alert"


def test_a_run_killed_half_way_is_marked_interrupted_by_the_next(nightly: Settings) -> None:
    with open_store(nightly).begin() as session:  # what a killed run leaves
        session.add(DailyRun(day=NIGHT, outcome="running", message="", counts="{}"))
    code, output = daily("--date", NIGHT.isoformat())
    assert code == 0 and "was interrupted" in output
    assert [r.outcome for r in daily_runs(nightly)] == ["interrupted", "ok"]


def test_a_run_that_could_not_record_its_end_is_recorded_by_the_next(
    nightly: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store locked at the run's end left it "running"; the next run called it killed
    ("interrupted") and its counts were lost. The end is kept beside the store and
    recorded by the next run; Ctrl-C (or systemd's SIGTERM) records why it stopped."""
    from sqlalchemy.exc import OperationalError

    from earlywarn.commands import daily_runs as run_records
    from earlywarn.commands import nightly as night

    def locked(*args: object) -> None:
        raise OperationalError("UPDATE daily_runs", {}, Exception("database is locked"))

    with monkeypatch.context() as patched:
        patched.setattr(run_records, "_record_end", locked)
        assert daily("--date", NIGHT.isoformat())[0] == 0
    kept = list((nightly.work_dir / run_records.KEPT_ENDS).glob("*.json"))
    assert len(kept) == 1 and daily_runs(nightly)[-1].outcome == "running"
    code, output = daily("--date", NIGHT.isoformat())
    assert code == 0 and "ended ok (recorded now)" in output, output
    assert [r.outcome for r in daily_runs(nightly)] == ["ok", "ok"] and not kept[0].exists()

    def pressed(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(night, "run_daily", pressed)
    code, output = daily("--date", NIGHT.isoformat())
    assert code == 130 and "interrupted 已中断" in output and "run the night again" in output
    assert daily_runs(nightly)[-1].outcome == "interrupted"
    assert "Ctrl-C or a termination signal" in daily_runs(nightly)[-1].message
    listed = CliRunner().invoke(app, ["runs", "--last", "3"])  # the history, newest first
    lines = listed.output.splitlines()
    assert listed.exit_code == 1 and len(lines) == 3  # the newest was stopped
    assert lines[0].split()[6] == "interrupted" and lines[1].split()[6] == "ok"
    # What a night decided is said with it, not "ok" alone.
    from earlywarn.commands.daily import _decided

    record = (
        '{"days": [{"monitoring": "warn"}, {"monitoring": "alert"}], '
        '"retrained": {"escalation": "3"}, "judged": ["challenger 2 retired"]}'
    )
    said = _decided(record)
    assert said == "; monitoring alert; retrained: escalation 3; challenger 2 retired"


def test_a_locked_store_is_one_line_and_the_run_said(
    nightly: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EARLYWARN_DATABASE_BUSY_SECONDS", "0.5")
    assert daily("--date", NIGHT.isoformat())[0] == 0
    database = nightly.work_dir / "earlywarn.db"
    holder = sqlite3.connect(database, timeout=0)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the store
    try:
        code, output = daily("--date", (NIGHT + dt.timedelta(days=1)).isoformat())
    finally:
        holder.rollback()
        holder.close()
    assert code == 1 and "the store could not be used" in output
    assert "Traceback" not in output
    runs = daily_runs(nightly)
    assert runs[-1].outcome in ("ok", "failed")  # never left "running"


def test_a_work_directory_that_cannot_be_written_is_said(
    nightly: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the work directory should be")
    monkeypatch.setenv("EARLYWARN_WORK_DIR", str(blocked))
    code, output = daily("--date", NIGHT.isoformat())
    assert code == 1 and "cannot be written" in output and "Traceback" not in output


def test_catching_up_repairs_the_last_list_and_names_the_days_it_leaves(
    nightly: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert daily("--date", NIGHT.isoformat())[0] == 0
    (nightly.work_dir / "risk-lists" / NIGHT.isoformat() / "risk-list.xlsx").unlink()  # killed
    monkeypatch.setenv("EARLYWARN_CATCH_UP_DAYS", "1")
    later = NIGHT + dt.timedelta(days=3)
    code, output = daily("--date", later.isoformat(), "--catch-up")
    assert code == 0, output
    assert f"2 missed day(s) from {NIGHT + dt.timedelta(days=1)}" in output
    built = [d["day"] for d in json.loads(daily_runs(nightly)[-1].counts)["days"]]
    assert built == [NIGHT.isoformat(), later.isoformat()]  # the broken day rewritten
    verified = CliRunner().invoke(app, ["risk-list", "--verify", "--date", NIGHT.isoformat()])
    assert verified.exit_code == 0, verified.output


def test_a_day_after_today_is_refused(nightly: Settings) -> None:
    """A mistyped date or a clock gone wrong would put a list on top of every page."""
    code, output = daily("--date", "2999-01-01")
    assert code == 2 and "is after today" in output
    assert daily_runs(nightly) == []
    # So is monitoring a day to come (it became the latest monitored day, on every page
    # and in /metrics) and building its list; nothing is read or stored first.
    for command in (["monitor", "--data", "nowhere"], ["risk-list", "--data", "nowhere"]):
        refused = CliRunner().invoke(app, [*command, "--date", "2999-01-01"])
        assert refused.exit_code == 2 and "is after today" in refused.output, command
    # A score file of a moment no case is open at says so (it read as "all safe").
    out = nightly.work_dir / "scores-2030.csv"
    scored = CliRunner().invoke(
        app, ["score", "--data", str(sample_dataset()), "--as-of", "2030-01-01", "--out", str(out)]
    )
    assert scored.exit_code == 0 and "Scored 已评分 0 cases" in scored.output, scored.output
    assert "no case is in the scoring population at 2030-01-01 00:00" in scored.output
    # So does a list stored for a day before the data (a mistyped --date).
    listed = CliRunner().invoke(
        app, ["risk-list", "--data", str(sample_dataset()), "--date", "2001-01-01"]
    )
    assert listed.exit_code == 0 and "0 cases" in listed.output, listed.output
    assert "no case is open at the end of 2001-01-01" in listed.output


def test_a_column_the_export_leaves_empty_is_said(
    nightly: Settings, sample: Dataset, tmp_path: Path
) -> None:
    """The office's system stopped exporting the responsible unit: the night goes on
    (the office may really have cleared it), and says which column lost its values."""
    assert daily("--source", str(_export(sample, tmp_path / "a" / "export")),
                 "--date", NIGHT.isoformat())[0] == 0  # fmt: skip
    assert sample.actions is not None
    cleared = sample.cases.with_columns(pl.lit(None, pl.String).alias("responsible_unit"))
    emptied = {"cases": cleared, "contacts": sample.contacts, "actions": sample.actions}
    write_office_export(emptied, tmp_path / "b" / "export", "csv-gbk")
    code, output = daily("--source", str(tmp_path / "b" / "export"),
                         "--date", (NIGHT + dt.timedelta(days=1)).isoformat())  # fmt: skip
    assert code == 0, output
    assert "the export left cases.responsible_unit" in output
