"""A day's answer to "does the model still fit, and what do I do?", from its checks.

In order of what must be done first:

* ``none``: no check was stored for the day;
* ``fix_import``: a data check alerts (a late or partial export, rows quarantined,
  values no vocabulary knows, no open case): fix the import first, since every other
  check read that data;
* ``retrain``: a check of the model's fit alerts (a feature's drift, a matured list's
  calibration, or its precision significantly short of the promise): train a
  challenger on the latest data;
* ``scores_moved``: only the scores' alerts (their shift from the earlier days, their
  share flagged beyond the backtest's range): the scores can move for real (a
  sensitive period ahead, a wave of contacts, both read by the model), so the day's
  list is looked at first, and a shift that lasts calls for retraining;
* ``watch``: warnings only: the model may stay, the named checks are to be watched;
* ``fits``: every judged check is ok;
* ``waiting``: nothing could be judged yet.

The backlog's checks (the open cases' age) never drive it: they are named apart, as
the office's matter. The checks not judged yet are named apart, with what they wait for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from earlywarn.serving.monitor.checks import STATUSES, Check

_COUNTED = ("model", "data")
SCORE_CHECKS = frozenset({"score_shift", "flag_share_vs_backtest"})  # the scores moved


@dataclass(frozen=True)
class Verdict:
    state: str
    drivers: list[Check] = field(default_factory=list)  # the checks that decide it, worst first
    after: list[Check] = field(default_factory=list)  # model alerts behind a data alert
    waiting: list[Check] = field(default_factory=list)  # judged checks not judged yet
    backlog: list[Check] = field(default_factory=list)  # backlog checks not ok
    judged: int = 0  # model and data checks judged


def _worst_first(checks: list[Check]) -> list[Check]:
    return sorted(checks, key=lambda c: (-STATUSES.index(c.status), -(c.value or 0.0)))


def verdict_of(checks: list[Check]) -> Verdict:
    if not checks:
        return Verdict("none")
    counted = [c for c in checks if c.kind in _COUNTED and c.judged]
    waiting = [c for c in checks if c.kind in _COUNTED and c.waiting]
    backlog = _worst_first([c for c in checks if c.kind == "backlog" and c.status != "ok"])

    def answer(state: str, drivers: list[Check], after: list[Check] | None = None) -> Verdict:
        return Verdict(state, _worst_first(drivers), _worst_first(after or []), waiting, backlog,
                       len(counted))  # fmt: skip

    data_alerts = [c for c in counted if c.kind == "data" and c.status == "alert"]
    model_alerts = [c for c in counted if c.kind == "model" and c.status == "alert"]
    if data_alerts:
        return answer("fix_import", data_alerts, model_alerts)
    if any(c.check not in SCORE_CHECKS for c in model_alerts):
        return answer("retrain", model_alerts)
    if model_alerts:
        return answer("scores_moved", model_alerts)
    warnings = [c for c in counted if c.status == "warn"]
    if warnings:
        return answer("watch", warnings)
    return answer("fits" if counted else "waiting", [])
