"""Settings come from defaults, earlywarn.toml and EARLYWARN_* variables, in that order."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.settings import SettingsError, load_settings, unknown_variables


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.work_dir == Path(".earlywarn")
    assert settings.quarantine_dir(tmp_path / "my data") == Path(".earlywarn/quarantine/my data")


def test_toml_file_then_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "earlywarn.toml").write_text('work_dir = "from-toml"\nlog_level = "DEBUG"\n')
    assert load_settings().work_dir == Path("from-toml")
    monkeypatch.setenv("EARLYWARN_WORK_DIR", "from-env")
    settings = load_settings()
    assert settings.work_dir == Path("from-env")
    assert settings.log_level == "DEBUG"


def test_config_file_can_be_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "office.toml"
    config.write_text("show_issues = 7\n")
    monkeypatch.setenv("EARLYWARN_CONFIG", str(config))
    assert load_settings().show_issues == 7


def test_unknown_setting_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "earlywarn.toml").write_text('wrok_dir = "typo"\n')
    with pytest.raises(SettingsError, match="wrok_dir: no such setting"):
        load_settings()


@pytest.mark.parametrize(
    ("toml", "variables", "said"),
    [
        ('log_levle = "x"\n', {}, "log_levle: no such setting"),
        ("capacity_share = [\n", {}, "earlywarn.toml: not valid TOML"),
        ("", {"EARLYWARN_CAPACITY_SHARE": "abc"}, "capacity_share: Input should be a valid number"),
        ("", {"EARLYWARN_CONFIG": "missing.toml"}, "EARLYWARN_CONFIG names missing.toml"),
        ("", {"EARLYWARN_DATABASE_URL": "1", "EARLYWARN_SHOW_ISSUES": "-1"}, "show_issues"),
        ('import_name = "../x"\n', {}, "import_name: String should match pattern"),
    ],
)
def test_settings_that_cannot_be_used_are_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    toml: str,
    variables: dict[str, str],
    said: str,
) -> None:
    """A typo in the config file, a bad value or a config file that is not there: the
    command says which setting and where, and runs nothing (a typo in EARLYWARN_CONFIG
    would otherwise run on a new, empty work directory)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "earlywarn.toml").write_text(toml)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["keys", "list"])
    assert result.exit_code == 2
    assert said in result.output and "Traceback" not in result.output
    assert not (tmp_path / ".earlywarn").exists()


def test_retraining_can_be_turned_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings().retrain_weekday == 6
    (tmp_path / "earlywarn.toml").write_text('retrain_weekday = "never"\n')
    assert load_settings().retrain_weekday is None
    monkeypatch.setenv("EARLYWARN_RETRAIN_WEEKDAY", "")
    assert load_settings().retrain_weekday is None
    monkeypatch.setenv("EARLYWARN_RETRAIN_WEEKDAY", "2")
    assert load_settings().retrain_weekday == 2


def test_a_misspelt_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EARLYWARN_WORK_DIRR", "x")
    monkeypatch.setenv("EARLYWARN_AUDIT_KEY", "secret")  # ours, but not a setting
    unknown = unknown_variables()
    assert "EARLYWARN_WORK_DIRR" in unknown and "EARLYWARN_AUDIT_KEY" not in unknown


def test_importing_does_nothing(tmp_path: Path) -> None:
    code = (
        "import logging, earlywarn.cli, earlywarn.contract, earlywarn.settings;"
        "assert not logging.getLogger().handlers"
    )
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True)
    assert list(tmp_path.iterdir()) == []
