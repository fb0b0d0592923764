"""Settings come from defaults, earlywarn.toml and EARLYWARN_* variables, in that order."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from earlywarn.settings import load_settings


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
    with pytest.raises(ValidationError, match="wrok_dir"):
        load_settings()


def test_importing_does_nothing(tmp_path: Path) -> None:
    code = (
        "import logging, earlywarn.cli, earlywarn.contract, earlywarn.settings;"
        "assert not logging.getLogger().handlers"
    )
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True)
    assert list(tmp_path.iterdir()) == []
