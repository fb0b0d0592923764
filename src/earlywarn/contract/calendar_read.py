"""Reading a dataset's ``calendar.yaml`` for validation: the file's verdict in the report.

``calendar_file`` owns the structure of a period (and the features read it without
this module's file handling)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from earlywarn.contract.calendar_file import CalendarError, calendar_content
from earlywarn.contract.read import regular_file_problem
from earlywarn.contract.report import Severity, ValidationReport, issue_frame

CALENDAR_FILE = "calendar.yaml"


def read_calendar(path: Path, report: ValidationReport) -> tuple[dict[str, Any] | None, bool]:
    """The dataset's own sensitive periods, and whether the file (if any) is usable.

    ``calendar_file`` owns the structure of a period; this only reports its verdict.
    """
    file = path / CALENDAR_FILE
    if not file.exists() and not file.is_symlink():
        return None, True
    problem: dict[str, object] = {
        "severity": Severity.ERROR.value,
        "file": CALENDAR_FILE,
        "code": "bad_calendar",
    }
    refused = regular_file_problem(file)
    if refused is not None:
        report.add(issue_frame([problem | {"code": "not_a_regular_file", "detail": refused}]))
        return None, False
    try:
        content = yaml.safe_load(file.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        report.add(issue_frame([problem | {"detail": "not UTF-8"}]))
        return None, False
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        report.add(issue_frame([problem | {"line": line, "detail": str(error).splitlines()[0]}]))
        return None, False
    try:
        return calendar_content(content), True
    except CalendarError as error:
        report.add(issue_frame([problem | {"detail": str(error)}]))
        return None, False
