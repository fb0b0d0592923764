"""A champion is held to a new version's backtest only when it never learnt from it and
answers the same question."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import polars as pl
import pytest

from earlywarn.training.comparison import require_labels, why_not_comparable
from earlywarn.training.snapshots import SnapshotSettings, Split

WINDOW = {"fit": "2023-05-01 .. 2024-04-01", "validation": "2024-05-06 .. 2024-07-29",
          "backtest": "2024-09-02 .. 2024-11-25"}  # fmt: skip


def _champion(validation: str, horizon: int = 30, group: int = 5) -> Any:
    windows = {"fit": "2023-01-02 .. 2024-01-01", "validation": validation}
    return SimpleNamespace(meta={"horizon_days": horizon, "group_threshold": group,
                                 "windows": windows})  # fmt: skip


def test_a_champion_fitted_on_the_backtest_is_not_comparable() -> None:
    later = why_not_comparable(_champion("2024-08-05 .. 2024-10-28"), "2", WINDOW,
                               SnapshotSettings())  # fmt: skip
    assert later is not None and "learnt from outcomes up to 2024-11-27" in later
    earlier = _champion("2024-04-29 .. 2024-07-22")  # a week older: the usual retraining
    assert why_not_comparable(earlier, "2", WINDOW, SnapshotSettings()) is None
    same = _champion(WINDOW["validation"])  # the same data trained again
    assert why_not_comparable(same, "2", WINDOW, SnapshotSettings()) is None


def test_another_horizon_or_group_size_is_another_question() -> None:
    for settings in (SnapshotSettings(horizon_days=14), SnapshotSettings(group_threshold=10)):
        said = why_not_comparable(_champion("2024-04-29 .. 2024-07-22"), "1", WINDOW, settings)
        assert said is not None and "different questions" in said


def test_a_period_without_the_target_is_refused() -> None:
    def frame(day: str, labels: list[bool]) -> pl.DataFrame:
        as_of = dt.datetime.fromisoformat(day)
        return pl.DataFrame({"as_of": [as_of] * len(labels), "collective": labels})

    split = Split(
        frame("2024-01-01", [True, False]),
        frame("2024-05-06", [False, False]),
        frame("2024-09-02", [True, False]),
    )
    with pytest.raises(ValueError, match="no case of collective in the validation period"):
        require_labels(split, "collective", dt.datetime(2025, 1, 1))
    require_labels(Split(split.fit, split.backtest, split.backtest), "collective",
                   dt.datetime(2025, 1, 1))  # fmt: skip


def test_promote_says_why_a_version_cannot_be_held_to_its_champion(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from earlywarn.training import registry

    reason = "1: champion 1 learnt from outcomes up to 2024-11-27, after this backtest began"
    tags = {"champion_not_comparable": reason}

    class Registry:  # the registry's answers, without a store (mocks stay in unit tests)
        def get_model_version(self, name: str, version: str) -> Any:
            return SimpleNamespace(tags=tags)

        def get_model_version_by_alias(self, name: str, alias: str) -> Any:
            return SimpleNamespace(version="1")

    monkeypatch.setattr(registry, "load", lambda target, version: None)
    decision = registry.promote(Registry(), "escalation", "2")  # type: ignore[arg-type]
    assert not decision.promoted
    assert "cannot be held to champion 1" in decision.message and "2024-11-27" in decision.message


def test_the_oracle_is_left_out_on_days_the_model_learnt_from() -> None:
    from earlywarn.training.comparison import unseen_truth

    def frame(day: str) -> pl.DataFrame:
        return pl.DataFrame({"as_of": [dt.datetime.fromisoformat(day)], "collective": [True]})

    split = Split(frame("2024-01-01"), frame("2024-07-29"), frame("2024-11-25"))
    inside = pl.DataFrame({"case_id": ["C1"], "as_of": [dt.datetime(2024, 8, 15)]})
    assert unseen_truth(inside, split, SnapshotSettings()) is None  # up to 2024-08-28
    after = inside.with_columns(pl.lit(dt.datetime(2024, 11, 1)).alias("as_of"))
    assert unseen_truth(after, split, SnapshotSettings()) is after
