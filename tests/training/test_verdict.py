"""The report's first sentence per target: the model's list against the office's rule,
with exact intervals, and whether the difference is beyond chance."""

from __future__ import annotations

from earlywarn.training.verdict import Share, verdict


def _figures(hits: float, places: float) -> dict[str, float]:
    return {"capacity_hits": hits, "capacity_places": places}


def test_overlapping_intervals_are_said_to_leave_chance_open() -> None:
    zh, en = verdict(
        "escalation", {"model": _figures(105, 727), "office rule": _figures(82, 727)}, 13
    )
    assert "105/727 (14.4%; 95% 12.0%–17.2%)" in en and "82/727 (11.3%; 95% 9.1%–13.8%)" in en
    assert "chance is not ruled out" in en and "尚不能排除偶然" in zh
    assert "13 backtest days" in en


def test_a_clear_lead_and_no_lead_are_said_as_such() -> None:
    ahead = verdict(
        "collective", {"model": _figures(300, 700), "office rule": _figures(100, 700)}, 10
    )
    assert "beyond chance" in ahead[1] and "超出偶然波动" in ahead[0]
    behind = verdict(
        "collective", {"model": _figures(90, 700), "office rule": _figures(100, 700)}, 10
    )
    assert "do not promote" in behind[1]


def test_the_interval_is_exact_at_the_edges() -> None:
    assert Share(0, 50).interval()[0] == 0.0 and Share(50, 50).interval()[1] == 1.0
    low, high = Share(5, 10).interval()
    assert round(low, 3) == 0.187 and round(high, 3) == 0.813  # Clopper-Pearson
