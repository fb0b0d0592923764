"""The command line as an analyst meets it: version, help, validate, run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from earlywarn import __version__
from earlywarn.cli import app
from earlywarn.commands.app import COMMANDS
from earlywarn.resources import sample_dataset
from tests.conftest import DatasetWriter, contact_row

runner = CliRunner()


@pytest.fixture(autouse=True)
def _work_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EARLYWARN_WORK_DIR", str(tmp_path / "work"))


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output and "contract 1.0" in result.output


@pytest.mark.parametrize("command", ["validate", "schema", "run"])
def test_every_command_explains_itself(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "/" in result.output  # Chinese first, then English
    assert any("\u4e00" <= ch <= "\u9fff" for ch in result.output)


@pytest.mark.parametrize(
    ("arguments", "chinese", "english"),
    [
        (["train", "--horizon", "0"], "超出允许的范围", "--horizon"),
        (["score", "--as-of", "2025-13-01"], "日期写作 2025-10-31", "2025-13-01"),
        (["daily", "--date", "yesterday"], "日期写作", "yesterday"),
        (["trian"], "没有这个命令", "No such command"),
        (["--bogus"], "没有这个选项", "--bogus"),
        (["keys", "create"], "缺少必需的参数", "--role"),
        (["keys", "create", "--role", "boss"], "请从允许的取值中选择", "boss"),
    ],
)
def test_usage_errors_are_said_in_chinese_and_english(
    arguments: list[str], chinese: str, english: str
) -> None:
    result = runner.invoke(app, arguments)
    assert result.exit_code == 2
    assert chinese in result.output and english in result.output
    assert result.output.count(chinese) == 1


def test_validate_ok_on_the_sample() -> None:
    result = runner.invoke(app, ["validate", str(sample_dataset())])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


def test_validate_missing_directory_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "not found" in result.output
    (tmp_path / "cases.parquet").write_bytes(b"")
    result = runner.invoke(app, ["validate", str(tmp_path / "cases.parquet")])
    assert result.exit_code == 2 and "is a file, not a dataset directory" in result.output


def test_serve_refuses_a_dataset_that_is_not_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It would start, log the error and never become ready."""
    monkeypatch.setenv("EARLYWARN_WORK_DIR", str(tmp_path / "work"))
    result = runner.invoke(app, ["serve", "--data", str(tmp_path / "nowhere"), "--port", "1"])
    assert result.exit_code == 2 and "dataset directory not found" in result.output


def test_serve_names_the_trusted_proxies_to_uvicorn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind a proxy on another machine every call came from the proxy's address: five
    failed sign-ins by anyone held the whole office back. (uvicorn itself is replaced
    here: the unit is the wiring; uvicorn reads X-Forwarded-For from the proxies named.)"""
    import uvicorn

    from earlywarn.resources import sample_dataset

    monkeypatch.setenv("EARLYWARN_WORK_DIR", str(tmp_path / "work"))
    seen: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **options: seen.append(options))
    data = ["serve", "--data", str(sample_dataset()), "--port", "8799"]
    assert runner.invoke(app, [*data, "--forwarded-allow-ips", "10.1.2.3"]).exit_code == 0
    assert runner.invoke(app, data).exit_code == 0
    assert [s["forwarded_allow_ips"] for s in seen] == ["10.1.2.3", None]
    assert all(s["proxy_headers"] is True for s in seen)
    # Each request read within a deadline (serving/slow_clients.py).
    assert all(s["http"] == "earlywarn.serving.slow_clients:DeadlineProtocol" for s in seen)


def test_verify_says_how_to_build_or_rewrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EARLYWARN_WORK_DIR", str(tmp_path / "work"))
    result = runner.invoke(app, ["risk-list", "--verify", "--date", "2020-01-01"])
    assert result.exit_code == 1
    assert "no list for 2020-01-01" in result.output
    assert "earlywarn risk-list --data DIR --date 2020-01-01` with the day's data to build it" in (
        result.output
    )


def test_lenient_validate_writes_quarantine_and_issues(
    write_dataset: DatasetWriter, tmp_path: Path
) -> None:
    path = write_dataset(contacts=[contact_row(0), contact_row(1, group_size="-1")])
    result = runner.invoke(app, ["validate", str(path), "--mode", "lenient"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "work" / "quarantine" / path.name / "contacts.csv").exists()
    assert (tmp_path / "work" / "reports" / f"validation-{path.name}.csv").exists()
    assert "USABLE" in result.output


def test_too_many_errors_are_summarised(
    write_dataset: DatasetWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EARLYWARN_SHOW_ISSUES", "2")
    path = write_dataset(contacts=[contact_row(i, 0, channel="fax") for i in range(5)])
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "and 3 more errors" in result.output


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "earlywarn"  # the venv's console script
    completed = subprocess.run([script, "--version"], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr


@pytest.mark.slow
@pytest.mark.fresh_store  # a first run on a new machine makes its store
def test_run_is_the_whole_main_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The report's baselines on a small sample: the evaluation's sampling has its own
    # tests (tests/training/test_evaluation.py); this one holds the main job together.
    monkeypatch.setenv("EARLYWARN_EVALUATION_ROWS", "3000")
    result = runner.invoke(app, ["run", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "work" / "simulated" / "cases.parquet").exists()
    assert "OK" in result.output and "champion" in result.output
    lists = list((tmp_path / "work" / "risk-lists").glob("*/risk-list.xlsx"))
    assert len(lists) == 1


def test_simulate_refuses_a_truth_date_without_a_full_horizon(tmp_path: Path) -> None:
    args = ["simulate", "--out", str(tmp_path / "s"), "--cases", "50", "--start", "2024-01-01"]
    result = runner.invoke(app, [*args, "--end", "2024-03-01", "--truth", "2024-02-15"])
    assert result.exit_code == 2
    assert "before the end" in result.output


def test_help_and_version_load_no_command_and_no_heavy_library() -> None:
    probe = (
        "import sys; from typer.testing import CliRunner; from earlywarn.cli import app;"
        "r = CliRunner();"
        "assert r.invoke(app, ['--version']).exit_code == 0;"
        "assert 'daily' in r.invoke(app, ['--help']).output;"
        "heavy = ['polars', 'numpy', 'lightgbm', 'sklearn', 'mlflow', 'fastapi', 'sqlalchemy',"
        " 'earlywarn.commands.data', 'earlywarn.contract.loader'];"
        "print([m for m in heavy if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


HEAVY = ("polars", "lightgbm", "sklearn", "mlflow", "fastapi", "uvicorn", "sqlalchemy")


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_commands_help_loads_no_heavy_library(command: str) -> None:
    """``earlywarn CMD --help`` imports the command's module, and only what the
    options need: the libraries it runs on are imported when it runs."""
    probe = (
        "import sys; from typer.testing import CliRunner; from earlywarn.cli import app;"
        f"r = CliRunner().invoke(app, [{command!r}, '--help']);"
        "assert r.exit_code == 0, r.output;"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_the_commands_table_says_what_each_command_says() -> None:
    import importlib
    import inspect
    import re

    import typer

    from earlywarn.commands.app import COMMANDS

    for module in {m for m, _ in COMMANDS.values()}:
        importlib.import_module(module)
    group = typer.main.get_group(app)
    assert set(group.commands) == set(COMMANDS)  # every command is in the table, and only they
    for name, (module, sentence) in COMMANDS.items():
        command = group.commands[name]
        text = " ".join(inspect.cleandoc(command.help or "").split("\n\n")[0].split())
        first = re.match(r"(.+?[.。])(\s|$)", text)
        assert (first.group(1) if first else text) == sentence, name
        callback = (
            getattr(command, "callback", None)
            or next(
                iter(command.commands.values())  # type: ignore[attr-defined]
            ).callback
        )
        assert callback.__module__ == module, name


def test_an_oracle_of_another_horizon_is_not_compared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 14-day model was measured against the simulator's 30-day oracle, and looked far
    closer to it than it was."""
    import json

    from earlywarn.commands.models import _truth_of

    (tmp_path / "simulation.json").write_text(json.dumps({"truth": {"horizon_days": 30}}))
    (tmp_path / "truth.csv").write_text("case_id,as_of\nC1,2024-11-01T00:00:00\n")
    assert _truth_of(tmp_path, 30) is not None
    assert _truth_of(tmp_path, 14) is None
    assert "a 30-day question, this training a 14-day one" in capsys.readouterr().err


def test_one_table_of_a_dataset_given_as_data_asks_for_its_directory() -> None:
    """train --data data/cases.parquet was read as an office export: "no CSV file or
    workbook with a table in it"."""
    from earlywarn.resources import sample_dataset

    one = sample_dataset() / "cases.csv"
    result = runner.invoke(app, ["train", "--data", str(one)])
    assert result.exit_code == 1
    assert f"give its directory, --data {sample_dataset()}" in result.output


def test_training_says_how_promote_will_judge_the_new_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The champion's figures on the same backtest were only in the registry's tags."""
    from earlywarn.commands.models import show_trained
    from earlywarn.training.pipeline import TrainResult

    figures = {"roc_auc": 0.86, "pr_auc": 0.2, "precision_at_capacity": 0.12, "ece": 0.01}
    held = {"compared_with_champion": "4", "champion_backtest_roc_auc": "0.85",
            "champion_backtest_precision_at_capacity": "0.13"}  # fmt: skip
    result = TrainResult({"escalation": "5"}, {"escalation": figures}, tmp_path / "r.html")
    result.champion = {"escalation": held}
    show_trained(result)
    said = capsys.readouterr().out
    assert "champion 4 on the same backtest: ROC-AUC 0.850  precision at capacity 0.1300" in said
    assert "promote would refuse it" in said  # higher ROC-AUC, lower precision at capacity
