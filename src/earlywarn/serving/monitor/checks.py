"""One monitoring check: what was measured, on what, its value and its status.

Statuses are ``ok``, ``warn`` and ``alert``; each check's thresholds are stated
here and in docs/monitoring.md, and the day's status is the worst of its checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUSES = ("ok", "warn", "alert")

# check -> (warn from, alert from): a value at or above a bound takes its status.
THRESHOLDS: dict[str, tuple[float, float]] = {
    "input_psi": (0.10, 0.25),  # population stability index of a feature's bins
    "score_shift": (2.0, 3.0),  # |today - mean of earlier days| in their standard deviations
    "newest_record_days": (2.0, 7.0),  # age of the newest contact or step at the list's moment
    "quarantine_share": (0.01, 0.05),  # rows quarantined by the loader, per table
    "unmapped_share": (0.0001, 0.01),  # imported rows holding a value no vocabulary knows
    "calibration_gap": (0.02, 0.05),  # |mean probability - observed rate| on a matured list
}


def status_of(check: str, value: float | None) -> str:
    """The status of a value of a check by its thresholds; no value is ``ok`` (nothing
    to judge yet, said in the detail)."""
    if value is None:
        return "ok"
    warn, alert = THRESHOLDS[check]
    return "alert" if value >= alert else "warn" if value >= warn else "ok"


def worst(statuses: list[str]) -> str:
    return max(statuses, key=STATUSES.index, default="ok")


@dataclass(frozen=True)
class Check:
    check: str  # a key of THRESHOLDS, or an informational measure (status ok)
    subject: str  # the feature, target, table, or list the value is about
    value: float | None
    status: str
    detail: dict[str, Any] = field(default_factory=dict)
