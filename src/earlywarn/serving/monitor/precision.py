"""Did a matured list's flags turn out as well as the model promised?

The promise is the mean calibrated probability of the list's flagged cases: what each
flag was said to be worth the day the list was made. Once the horizon has passed, the
share of those cases that did escalate (or come back as a group) is the matured
precision. The two are compared on the flagged cases the office did not act on (an
action may be why a case did not escalate; the model predicts the course without it):

* the gap in percentage points and the number of cases it rests on;
* the exact (Clopper-Pearson) 95% interval of the matured precision;
* a one-sided exact binomial test of "as many hits as promised": the p-value of so few
  hits among ``cases`` draws at the promised rate. The flags' own probabilities
  differ, so the hits are Poisson-binomial, whose spread is at most the binomial's at
  their mean: the test is conservative (it raises fewer alarms, never more).

A shortfall takes a status only when it is both large (``THRESHOLDS``) and beyond
chance (``SIGNIFICANCE``); its value is promised minus matured (negative: better than
promised). A list with no such flagged case, or no matured list, is not judged yet.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.stats import binomtest

from earlywarn.serving.monitor.checks import SIGNIFICANCE, THRESHOLDS, Check

CHECK = "precision_shortfall"
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Comparison:
    expected: float  # mean probability of the flagged cases compared
    observed: float  # share of them that happened
    cases: int
    hits: int
    low: float  # exact 95% interval of the observed share
    high: float
    p_value: float  # one-sided: this few hits or fewer at the expected rate

    @property
    def shortfall(self) -> float:
        return self.expected - self.observed


def compare(probability: np.ndarray, happened: np.ndarray) -> Comparison | None:
    """The promised and the matured precision of the same flagged cases; None without any."""
    cases = int(probability.size)
    if cases == 0:
        return None
    hits = int(np.count_nonzero(happened))
    expected = float(np.clip(probability.mean(), 1e-9, 1 - 1e-9))  # a test needs 0 < p < 1
    test = binomtest(hits, cases, expected, alternative="less")
    interval = binomtest(hits, cases).proportion_ci(CONFIDENCE, method="exact")
    return Comparison(
        expected=float(probability.mean()),
        observed=hits / cases,
        cases=cases,
        hits=hits,
        low=float(interval.low),
        high=float(interval.high),
        p_value=float(test.pvalue),
    )


def shortfall_status(found: Comparison) -> str:
    """``alert``/``warn`` for a shortfall at least as large as the bound and beyond
    chance at that bound's significance; ``ok`` otherwise (a surplus included)."""
    warn, alert = THRESHOLDS[CHECK]
    if found.shortfall >= alert and found.p_value < SIGNIFICANCE["alert"]:
        return "alert"
    if found.shortfall >= warn and found.p_value < SIGNIFICANCE["warn"]:
        return "warn"
    return "ok"


def shortfall_check(subject: str, found: Comparison | None, acted: int) -> Check:
    """The comparison of one target of a matured list (``acted``: flagged cases left out
    because the office acted on them)."""
    if found is None:
        return Check(CHECK, subject, None, "ok", {"waits_for": "flagged_not_acted", "acted": acted})
    detail: dict[str, Any] = {k: round(v, 6) if isinstance(v, float) else v
                              for k, v in asdict(found).items()}  # fmt: skip
    detail |= {"acted": acted, "test": "one-sided exact binomial", "interval": "Clopper-Pearson"}
    return Check(CHECK, subject, round(found.shortfall, 6), shortfall_status(found), detail)


def waiting_checks(
    targets: tuple[str, ...], first_list: dt.date | None, matures: dt.date | None
) -> list[Check]:
    """No list has matured by the day: nothing to compare yet, said per target with the
    day the first stored list matures (if any is stored)."""
    detail = {
        "waits_for": "matured_list",
        "first_list": first_list.isoformat() if first_list else None,
        "matures": matures.isoformat() if matures else None,
    }
    return [Check(CHECK, target, None, "ok", dict(detail)) for target in targets]
