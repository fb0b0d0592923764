"""Input drift and score drift.

Input drift compares a day's features with the reference bins frozen in each model
artifact at training (``models.reference.drift_reference``): the population
stability index (PSI) gives the status, the Jensen-Shannon distance is kept beside
it. Score drift compares the day's share flagged and mean probability per target
with the same measures of the earlier days stored (mean and standard deviation).

The features that only count a case's age (``AGE_CLOCKS``) are judged the same way
but as ``backlog_psi``: their shift is the office's backlog ageing, not the model
failing, and it does not set the day's status (docs/monitoring.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from earlywarn.features.catalogue import FEATURES
from earlywarn.models.reference import DRIFT_KEY, FLAG_SHARE_KEY, shares_of
from earlywarn.models.registry import LoadedModels
from earlywarn.serving.monitor.checks import AGE_CLOCKS, Check, status_of

# The calendar family describes the day, not the cases: on any one day its values are
# (nearly) one point, always far from the training days' spread. The context family is
# shared by every case of a county's category family or of a unit: on any one day a
# handful of values, so it too sat far from the training days' spread on every day of
# the training period itself (PSI 0.3 to 1.5 on the sample's days, against 0.25 for an
# alert). Neither is checked; a real shift in an area shows in the category's check
# and in the scores'.
DAY_LEVEL = frozenset(s.name for s in FEATURES if s.family in ("calendar", "context"))
_FLOOR = 1e-4  # an empty bin's share, so that a logarithm stays finite
SCORE_HISTORY_DAYS = 28
SCORE_HISTORY_LEAST = 7  # fewer earlier days: the measure is stored, not judged


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    e = np.clip(expected, _FLOOR, None)
    a = np.clip(actual, _FLOOR, None)
    return float(np.sum((a - e) * np.log(a / e)))


def js_distance(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon distance in bits (0 same, 1 disjoint)."""
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(a: np.ndarray) -> float:
        inside = a > 0
        return float(np.sum(a[inside] * np.log2(a[inside] / m[inside])))

    return float(np.sqrt(max((kl(p) + kl(q)) / 2, 0.0)))


def input_drift(models: LoadedModels, features: pl.DataFrame) -> list[Check]:
    """One check per feature of each model with frozen bins (a feature in both models is
    checked once, against the first model's reference), the calendar family aside."""
    checks: list[Check] = []
    seen: set[str] = set()
    for target, model in models.models.items():
        reference = model.meta.get(DRIFT_KEY) or {}
        for feature, entry in reference.items():
            if feature in seen or feature not in features.columns or feature in DAY_LEVEL:
                continue
            seen.add(feature)
            expected = np.asarray(entry["shares"], dtype=float)
            actual = shares_of(entry, features.get_column(feature))
            value = psi(expected, actual)
            distance = js_distance(np.clip(expected, 0, None), actual)
            detail = {"js_distance": round(distance, 6), "reference": target}
            check = "input_psi"
            if feature in AGE_CLOCKS:
                check = "backlog_psi"
                detail |= _age_detail(entry, expected, actual, features.get_column(feature))
            checks.append(Check(check, feature, round(value, 6), status_of(check, value), detail))
    return checks


def _age_detail(
    entry: dict[str, Any], expected: np.ndarray, actual: np.ndarray, column: pl.Series
) -> dict[str, Any]:
    """How much older the open cases are than the reference's: today's median, and the
    share of cases beyond the reference's 90th percentile today and in the reference (the
    last frozen edge: tied deciles are merged, the largest is always kept)."""
    edges = entry.get("edges") or []
    median = column.drop_nulls().cast(pl.Float64).median()
    shown = round(float(median), 1) if isinstance(median, int | float) else None
    found: dict[str, Any] = {"median_today": shown}
    if edges:  # the bin above the last edge is second to last (missing values last)
        found |= {"reference_p90": edges[-1], "beyond_p90_today": round(float(actual[-2]), 6),
                  "beyond_p90_reference": round(float(expected[-2]), 6)}  # fmt: skip
    return found


def score_measures(
    probability: dict[str, np.ndarray], flagged: dict[str, np.ndarray]
) -> list[Check]:
    """The day's share flagged and mean probability per target (judged by ``score_drift``)."""
    checks = []
    for target, values in probability.items():
        checks.append(Check("share_flagged", target, float(flagged[target].mean()), "ok"))
        checks.append(Check("mean_probability", target, float(values.mean()), "ok"))
    return checks


def flag_share_against_backtest(
    models: LoadedModels, flagged: dict[str, np.ndarray]
) -> list[Check]:
    """Each target's share flagged today against the range of its model's backtest days:
    how many times beyond it (1 inside). The band of the earlier days moves with them, so
    a share that creeps up night after night never left it; the backtest's does not move.
    A model trained before the range was kept is not judged (``waits_for``: retrained)."""
    checks = []
    for target, flags in flagged.items():
        today = float(flags.mean()) if flags.size else 0.0
        shares = models.models[target].meta.get(FLAG_SHARE_KEY) or []
        detail: dict[str, Any] = {"today": today, "backtest_days": len(shares)}
        low, high = (min(shares), max(shares)) if shares else (0.0, 0.0)
        if not shares or high <= 0:  # nothing to hold it against
            waiting = {"waits_for": "retrained", "note": "the model keeps no backtest range"}
            checks.append(Check("flag_share_vs_backtest", target, None, "ok", detail | waiting))
            continue
        beyond = today / high if today > high else low / max(today, 1e-9) if today < low else 1.0
        beyond = round(min(beyond, 1e6), 4)
        checks.append(Check("flag_share_vs_backtest", target, beyond,
                            status_of("flag_share_vs_backtest", beyond),
                            detail | {"backtest_low": low, "backtest_high": high}))  # fmt: skip
    return checks


def score_drift(today: list[Check], earlier: dict[tuple[str, str], list[float]]) -> list[Check]:
    """Each of today's score measures against the band of the earlier days (mean ± kσ):
    the value of a ``score_shift`` check is how many σ away it lies."""
    judged = []
    for measure in today:
        history = earlier.get((measure.check, measure.subject), [])
        detail = {"measure": measure.check, "today": measure.value, "days": len(history)}
        if len(history) < SCORE_HISTORY_LEAST or measure.value is None:
            waiting = {"note": "too few earlier days to judge", "waits_for": "earlier_days",
                       "needs": SCORE_HISTORY_LEAST}  # fmt: skip
            judged.append(Check("score_shift", f"{measure.check}:{measure.subject}", None, "ok",
                                detail | waiting))  # fmt: skip
            continue
        mean, spread = float(np.mean(history)), float(np.std(history))
        spread = max(spread, 0.05 * abs(mean), 1e-6)  # a flat history is not infinitely strict
        shift = abs(measure.value - mean) / spread
        judged.append(Check("score_shift", f"{measure.check}:{measure.subject}", round(shift, 4),
                            status_of("score_shift", shift),
                            detail | {"mean": mean, "sd": spread}))  # fmt: skip
    return judged
