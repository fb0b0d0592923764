"""A share flagged that creeps up night after night never leaves the band of the
earlier days, which moves with it; held against the range of the model's backtest
days, which does not move, it is judged: how many times beyond that range it lies."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from earlywarn.models.reference import FLAG_SHARE_KEY
from earlywarn.serving.monitor.checks import kind_of
from earlywarn.serving.monitor.drift import flag_share_against_backtest


def _models(shares: list[float] | None) -> SimpleNamespace:
    meta = {} if shares is None else {FLAG_SHARE_KEY: shares}
    return SimpleNamespace(models={"escalation": SimpleNamespace(meta=meta)})


def _flags(share: float, cases: int = 10_000) -> dict[str, np.ndarray]:
    return {"escalation": np.arange(cases) < round(share * cases)}


def test_a_share_flagged_is_judged_against_the_backtest_range() -> None:
    backtest = _models([0.018, 0.02, 0.025])
    judged = {
        share: flag_share_against_backtest(backtest, _flags(share))[0]  # type: ignore[arg-type]
        for share in (0.02, 0.04, 0.08, 0.005)
    }
    assert {s: (c.value, c.status) for s, c in judged.items()} == {
        0.02: (1.0, "ok"),  # inside the range
        0.04: (1.6, "warn"),  # 1.6 times its highest day
        0.08: (3.2, "alert"),
        0.005: (3.6, "alert"),  # under its lowest day: flags dried up
    }
    assert judged[0.08].detail["backtest_high"] == 0.025
    assert kind_of("flag_share_vs_backtest", "escalation") == "model"


def test_a_model_without_a_backtest_range_is_not_judged() -> None:
    for shares in (None, [], [0.0, 0.0]):
        check = flag_share_against_backtest(_models(shares), _flags(0.5))[0]  # type: ignore[arg-type]
        assert check.value is None and check.status == "ok"
        assert check.detail["waits_for"] == "retrained"


def test_flags_beyond_the_backtest_alone_say_the_scores_moved_not_retrain() -> None:
    """A sensitive period ahead raises the scores for real: the day's list is looked at
    first, as for a score shift; a feature's drift beside it still says retrain."""
    from earlywarn.serving.monitor.checks import Check
    from earlywarn.serving.monitor.verdict import verdict_of

    beyond = Check("flag_share_vs_backtest", "escalation", 3.5, "alert")
    assert verdict_of([beyond]).state == "scores_moved"
    drift = Check("input_psi", "contacts_30d", 0.4, "alert")
    assert verdict_of([beyond, drift]).state == "retrain"
