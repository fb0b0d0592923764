"""One monitoring check: what was measured, on what, its value and its status.

Statuses are ``ok``, ``warn`` and ``alert``; each check's thresholds are stated
here and in docs/monitoring.md. A judged check stored without a value could not be
judged yet (its detail says what it waits for): it is stored as ``ok`` (older
records are read the same way) and shown as not judged, never as normal. What a
check is about decides what it means for the day (``kind_of``): the model's fit,
the night's data, or the office's backlog, which is shown but does not set the
day's status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUSES = ("ok", "warn", "alert")

# check -> (warn from, alert from): a value at or above a bound takes its status.
THRESHOLDS: dict[str, tuple[float, float]] = {
    "input_psi": (0.10, 0.25),  # population stability index of a feature's bins
    "backlog_psi": (0.10, 0.25),  # the same, of a feature that grows with a case's age
    "score_shift": (2.0, 3.0),  # |today - mean of earlier days| in their standard deviations
    "newest_record_days": (2.0, 7.0),  # age of the newest contact or step at the list's moment
    "quarantine_share": (0.01, 0.05),  # rows quarantined by the loader, per table
    "unmapped_share": (0.0001, 0.01),  # imported rows holding a value no vocabulary knows
    "calibration_gap": (0.02, 0.05),  # |mean probability - observed rate| on a matured list
    # promised minus matured precision of a matured list's flags, counted only when chance
    # does not explain it (one-sided binomial p-value below SIGNIFICANCE): see precision.py
    "precision_shortfall": (0.05, 0.10),
    # how many times the day's share flagged lies beyond the range of the model's backtest
    # days (above its highest or below its lowest; 1 inside it)
    "flag_share_vs_backtest": (1.5, 3.0),
}
SIGNIFICANCE: dict[str, float] = {"warn": 0.05, "alert": 0.01}

# Features that rise by one every day a case stays open, whatever happens to it: the
# days since it was registered and since its first contact. They grow as old cases
# stay open (the office's backlog), so their drift is judged as backlog, not as model
# drift (docs/monitoring.md says why).
AGE_CLOCKS = frozenset({"case_age_days", "days_since_first_contact"})

MODEL_CHECKS = frozenset(
    {"input_psi", "score_shift", "precision_shortfall", "calibration_gap", "flag_share_vs_backtest"}
)
DATA_CHECKS = frozenset(
    {"newest_record_days", "quarantine_share", "unmapped_share", "scoring_population"}
)
# Every check with a status of its own; the rest are measures shown beside them.
JUDGED: tuple[str, ...] = (*THRESHOLDS, "scoring_population")


def kind_of(check: str, subject: str) -> str:
    """``model``, ``data``, ``backlog`` or ``measure`` (no status of its own). Days
    stored before backlog checks existed hold the age clocks as ``input_psi``: they
    are read as backlog too."""
    if check == "backlog_psi" or (check == "input_psi" and subject in AGE_CLOCKS):
        return "backlog"
    if check in MODEL_CHECKS:
        return "model"
    if check in DATA_CHECKS:
        return "data"
    return "measure"


def is_judged(check: str, value: float | None) -> bool:
    """A check with a status of its own that could be judged (it has a value)."""
    return check in JUDGED and value is not None


def status_of(check: str, value: float | None) -> str:
    """The status of a value of a check by its thresholds; no value is stored as ``ok``
    and read as not judged yet (what it waits for is in the detail)."""
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

    @property
    def kind(self) -> str:
        return kind_of(self.check, self.subject)

    @property
    def judged(self) -> bool:
        return is_judged(self.check, self.value)

    @property
    def waiting(self) -> bool:
        """A check with a status of its own that could not be judged yet."""
        return self.check in JUDGED and self.value is None
