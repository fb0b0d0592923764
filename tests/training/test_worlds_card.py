"""The model card quotes bench_quality's summary, or says the worlds were not measured;
it names the search's choice in words."""

from __future__ import annotations

import json
from pathlib import Path

from earlywarn.training.plan import tuning_card, worlds_card


def test_the_card_quotes_the_worst_and_the_median_world(tmp_path: Path) -> None:
    summary = tmp_path / "worlds.json"
    assert "not measured" in worlds_card(summary)
    figures = {
        "roc_ratio_min": 0.961, "roc_ratio_median": 0.975, "ap_ratio_min": 0.512,
        "ap_ratio_median": 0.58, "ece_max": 0.0046,
    }  # fmt: skip
    summary.write_text(
        json.dumps(
            {
                "measured": "2026-11-30",
                "commit": "abc1234",
                "cases": 50000,
                "seeds": [101, 102, 103, 104, 105, 106],
                "figures": {"escalation": figures},
            }
        ),
        encoding="utf-8",
    )
    card = worlds_card(summary)
    assert "6 simulated worlds" in card and "101, 102, 103, 104, 105, 106" in card
    assert "average precision / oracle min 0.512 (median 0.580)" in card
    assert "ECE max 0.0046" in card and "commit abc1234" in card


def test_the_card_names_the_search_choice_in_words() -> None:
    assert tuning_card(8, {}).startswith("none: LightGBM's defaults")
    chosen = {"collective": {"learning_rate": 0.0371234, "num_leaves": 68}}
    assert tuning_card(8, chosen) == (
        "Optuna, 8 trials on the validation period; chosen: "
        "collective: learning_rate 0.03712, num_leaves 68"
    )
