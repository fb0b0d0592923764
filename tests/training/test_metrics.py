"""The backtest's figures where the office feels them: at its capacity, per moment."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from earlywarn.training.metrics import Capacity, top_k_flags


def test_capacity_flags_are_those_of_capacity_at_per_moment() -> None:
    capacity = Capacity(0.02, 50)
    sizes = [1, 49, 50, 51, 2499, 2500, 2501, 3333, 10_007]
    rng = np.random.default_rng(0)
    frame = pl.concat(
        pl.DataFrame({"as_of": [i] * n, "s": rng.random(n)}) for i, n in enumerate(sizes)
    )
    flags = top_k_flags(frame, "s", capacity)
    per_moment = frame.with_columns(pl.Series("f", flags)).group_by("as_of").agg(pl.col("f").sum())
    for moment, flagged in per_moment.iter_rows():
        n = sizes[moment]
        assert flagged == min(n, max(math.ceil(0.02 * n), 50)) == capacity.at(n)


def test_a_slice_is_judged_by_the_offices_list_not_a_list_of_its_own() -> None:
    """Ranked on its own with the whole capacity, a small category showed recall 1.0
    while the bias audit, on the office's list, found its one case missed."""
    from earlywarn.training.metrics import bias_audit, per_group

    big = pl.DataFrame({"category": ["big"] * 200, "s": np.linspace(1.0, 0.5, 200),
                        "y": [True] * 10 + [False] * 190})  # fmt: skip
    small = pl.DataFrame({"category": ["small"] * 3, "s": [0.1, 0.05, 0.01],
                          "y": [True, False, False]})  # fmt: skip
    frame = pl.concat([big, small]).with_columns(pl.lit(0).alias("as_of"))
    capacity = Capacity(0.02, 5)
    flagged = frame.with_columns(pl.Series("flag", top_k_flags(frame, "s", capacity)))
    table = per_group(flagged, "category", "y", "s", capacity, flag="flag")
    recall = dict(zip(table["category"], table["recall_at_capacity"], strict=True))
    audit, _ = bias_audit(flagged, "category", "y", "flag")
    assert recall == dict(zip(audit["category"], audit["tpr"], strict=True))
    assert recall["small"] == 0.0 and recall["big"] == 0.5
    alone = per_group(frame, "category", "y", "s", capacity)  # each slice its own list
    assert dict(zip(alone["category"], alone["recall_at_capacity"], strict=True))["small"] == 1.0


def test_the_report_writes_counts_as_counts() -> None:
    from earlywarn.training.report import _cell

    assert [_cell(v) for v in (2087.0, 20241101.0, 0.98765, 1.0, "<b>")] == [
        "2087", "20241101", "0.9877", "1.0000", "&lt;b&gt;",
    ]  # fmt: skip


def test_the_phases_line_adds_up() -> None:
    """The baselines and the learning curve run inside a target's evaluation: said in
    brackets after it, not beside it as if they added to the run."""
    from earlywarn.training.phases import phases_text

    phases = {"fit_collective": 3.0, "baselines_collective": 10.9,
              "learning_curve_collective": 0.1, "evaluate_collective": 12.4,
              "report": 3.3}  # fmt: skip
    assert phases_text(phases) == (
        "fit_collective 3.0s, evaluate_collective 12.4s (of which baselines_collective 10.9s, "
        "learning_curve_collective 0.1s), report 3.3s"
    )


def test_the_bias_audit_names_a_group_whose_escalations_the_lists_missed() -> None:
    """The audit gave the largest gap and ratio, and named no group: an analyst had to
    read the table to find which county's cases that did escalate went unflagged. A
    group caught clearly less often (under four fifths of all's rate, and unlikely by
    chance) is now judged ``caught_less`` and named; a small gap or a small group is not."""
    from earlywarn.training.metrics import bias_audit
    from earlywarn.training.report_words import caught_less_words

    def county(name: str, positives: int, caught: int, rows: int = 400) -> pl.DataFrame:
        labels = [True] * positives + [False] * (rows - positives)
        flags = [True] * caught + [False] * (positives - caught) + [False] * (rows - positives)
        return pl.DataFrame({"county_code": [name] * rows, "y": labels, "flag": flags})

    frame = pl.concat([
        county("A", 60, 36),  # 0.60
        county("B", 60, 33),  # 0.55
        county("C", 60, 12),  # 0.20: clearly missed
        county("D", 6, 0),  # too few positives to judge
        county("E", 12, 4),  # 0.33, under four fifths of all's rate, but chance may do it
    ])  # fmt: skip
    table, summary = bias_audit(frame, "county_code", "y", "flag")
    judged = dict(zip(table["county_code"], table["caught_less"], strict=True))
    assert judged == {"A": False, "B": False, "C": True, "D": False, "E": False}
    e = table.filter(pl.col("county_code") == "E").row(0, named=True)
    assert e["tpr_vs_all"] < 0.8 and e["p_caught_this_few"] > 0.05
    assert summary["groups_caught_less"] == 1.0
    assert summary["tpr_all"] == (36 + 33 + 12 + 4) / 198
    words = caught_less_words("county_code", table)
    assert "C (12 of 60" in words and "明显漏判" in words and "A (" not in words
    assert caught_less_words("county_code", table.filter(pl.col("county_code") != "C")) == ""


def test_each_backtest_day_says_what_the_list_would_have_flagged() -> None:
    """The report gave precision at the capacity's places per day, while a list flags
    every case at or above the threshold: on a riskier day, many more than the places."""
    from types import SimpleNamespace

    from earlywarn.training.evaluation import _per_day

    calm = pl.DataFrame({"as_of": [1] * 100, "model": [0.5] * 2 + [0.01] * 98})
    risky = pl.DataFrame({"as_of": [2] * 100, "model": [0.5] * 8 + [0.2] * 4 + [0.01] * 88})
    backtest = pl.concat([calm, risky]).with_columns(
        (pl.col("model") > 0.3).alias("y")  # every flagged case had the event
    )
    model = SimpleNamespace(threshold=0.4, medium_threshold=0.1)
    table = _per_day(backtest, "y", model, Capacity(0.02, 1))  # type: ignore[arg-type]
    rows = {row["as_of"]: row for row in table.iter_rows(named=True)}
    assert (rows[1]["places"], rows[1]["flagged_at_threshold"], rows[1]["medium_or_high"]) == (
        2,
        2,
        2,
    )
    assert (rows[2]["places"], rows[2]["flagged_at_threshold"], rows[2]["medium_or_high"]) == (
        2,
        8,
        12,
    )
