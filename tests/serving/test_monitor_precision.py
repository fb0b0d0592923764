"""The promised against the matured precision of a list's flags: the gap, the cases it rests
on, the exact interval and the one-sided binomial test, and when a shortfall counts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from earlywarn.serving.monitor.checks import SIGNIFICANCE, THRESHOLDS
from earlywarn.serving.monitor.precision import CHECK, compare, shortfall_check, shortfall_status


def _flags(cases: int, promised: float, hits: int) -> tuple[np.ndarray, np.ndarray]:
    happened = np.zeros(cases, dtype=bool)
    happened[:hits] = True
    return np.full(cases, promised), happened


def _lower_tail(hits: int, cases: int, rate: float) -> float:
    """P(X <= hits) for X ~ Binomial(cases, rate), summed term by term."""
    return sum(math.comb(cases, k) * rate**k * (1 - rate) ** (cases - k) for k in range(hits + 1))


def test_the_gap_the_cases_and_the_test_are_those_of_the_same_flagged_cases() -> None:
    found = compare(*_flags(200, 0.40, 50))
    assert found is not None
    assert (found.cases, found.hits) == (200, 50)
    assert found.expected == pytest.approx(0.40) and found.observed == pytest.approx(0.25)
    assert found.shortfall == pytest.approx(0.15)
    assert found.p_value == pytest.approx(_lower_tail(50, 200, 0.40), rel=1e-9)
    assert found.low < found.observed < found.high
    # the exact interval: at its ends, the tails of the observed count are 2.5% each
    assert 1 - _lower_tail(49, 200, found.low) == pytest.approx(0.025, abs=1e-6)
    assert _lower_tail(50, 200, found.high) == pytest.approx(0.025, abs=1e-6)


def test_a_large_shortfall_beyond_chance_alerts() -> None:
    found = compare(*_flags(200, 0.40, 50))
    assert found is not None and found.shortfall >= THRESHOLDS[CHECK][1]
    assert found.p_value < SIGNIFICANCE["alert"]
    assert shortfall_status(found) == "alert"
    check = shortfall_check("collective@2025-09-21", found, acted=3)
    assert check.status == "alert" and check.kind == "model" and check.judged
    assert check.value == pytest.approx(0.15) and check.detail["acted"] == 3


def test_the_same_gap_on_few_cases_is_within_chance_and_not_counted() -> None:
    found = compare(*_flags(10, 0.40, 2))
    assert found is not None and found.shortfall == pytest.approx(0.20)
    assert found.p_value > SIGNIFICANCE["warn"]
    assert shortfall_status(found) == "ok"


def test_a_small_shortfall_warns_only_when_it_is_both_large_enough_and_beyond_chance() -> None:
    middling = compare(*_flags(400, 0.30, 90))  # 7.5 points short, p well below 5%
    small = compare(*_flags(4000, 0.30, 1100))  # 2.5 points short, beyond chance, too small
    assert middling is not None and small is not None
    assert shortfall_status(middling) == "warn"
    assert small.p_value < SIGNIFICANCE["alert"] and shortfall_status(small) == "ok"


def test_a_surplus_is_not_a_shortfall_and_no_flag_is_not_judged() -> None:
    better = compare(*_flags(100, 0.20, 40))
    assert better is not None and better.shortfall < 0 and shortfall_status(better) == "ok"
    assert compare(np.array([]), np.array([], dtype=bool)) is None
    empty = shortfall_check("escalation@2025-09-21", None, acted=4)
    assert empty.value is None and empty.waiting and not empty.judged
    assert empty.detail == {"waits_for": "flagged_not_acted", "acted": 4}
