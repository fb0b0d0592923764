"""The import contract of ``make lint`` holds today and fails when a forbidden import returns."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(source_root: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PYTHONPATH": str(source_root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )


def test_the_layers_hold() -> None:
    result = _lint(ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("serving/scorer.py", "from earlywarn.training import registry as _registry"),
        ("contract/loader.py", "from earlywarn.features import calendar as _calendar"),
        ("features/build.py", "from earlywarn.models import artifact as _artifact"),
    ],
)
def test_a_forbidden_import_fails_the_build(tmp_path: Path, module: str, forbidden: str) -> None:
    copy = tmp_path / "src" / "earlywarn"
    shutil.copytree(ROOT / "src" / "earlywarn", copy, ignore=shutil.ignore_patterns("__pycache__"))
    path = copy / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{forbidden}\n", encoding="utf-8")
    result = _lint(tmp_path / "src")
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
