"""The evaluation's plan: a sampled evaluation says so, --full-evaluation restores the full
one, and neither touches the model."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from earlywarn.contract import load_dataset
from earlywarn.features.build import build_features
from earlywarn.models import registry as models_registry
from earlywarn.resources import sample_dataset
from earlywarn.settings import Settings, load_settings
from earlywarn.training.pipeline import TrainResult
from earlywarn.training.plan import evaluation_notes, sample_fit_rows

from .helpers import train_on_sample

AS_OF = dt.datetime(2025, 11, 1)
SAMPLED_ROWS = 5000  # the sample's fit period has about 25,000 rows


def _frame(positives: int, negatives: int) -> pl.DataFrame:
    labels = np.r_[np.ones(positives, bool), np.zeros(negatives, bool)]
    order = np.random.default_rng(3).permutation(labels.size)
    return pl.DataFrame({"row": np.arange(labels.size), "escalation": labels[order]})


def test_a_sample_keeps_every_positive_and_weighs_back_to_the_frame() -> None:
    frame = _frame(300, 9700)
    sample = sample_fit_rows(frame, "escalation", 2000)
    kept = sample.frame["escalation"].to_numpy()
    assert sample.rows == 2000 and sample.drawn_from == 10_000
    assert kept.sum() == 300 == sample.positives_kept == sample.positives
    assert sample.frame["row"].is_sorted()  # frame order
    assert sample.weights is not None
    assert sample.weights[kept].sum() == pytest.approx(300)
    assert sample.weights[~kept].sum() == pytest.approx(9700)
    again = sample_fit_rows(frame, "escalation", 2000)
    assert again.frame.equals(sample.frame)  # seeded


def test_no_sample_when_the_cap_is_zero_or_not_reached() -> None:
    frame = _frame(30, 970)
    for most in (0, 1000, 5000):
        sample = sample_fit_rows(frame, "escalation", most)
        assert sample.frame.equals(frame) and sample.weights is None


def test_positives_fill_at_most_half_of_the_sample_and_the_report_says_so() -> None:
    sample = sample_fit_rows(_frame(800, 1200), "escalation", 1000)
    assert sample.rows == 1000 and sample.positives_kept == 500 and sample.positives == 800
    said = evaluation_notes(sample, refit=False)[0]
    assert "fitted on 1,000 of 2,000 fit rows: 500 of the 800 positives and 500 of the " in said
    assert "正例 800 行中的 500 行，负例 1,200 行中的 500 行" in said


def test_the_card_says_sampled_only_when_a_sample_was_drawn() -> None:
    from earlywarn.training.plan import EvaluationPlan, evaluation_card

    plan = EvaluationPlan(baseline_rows=50_000, learning_curve=False)
    assert evaluation_card(plan, sampled=True).startswith("sampled: baselines on at most")
    fitted_whole = evaluation_card(plan, sampled=False)  # fewer fit rows than the cap
    assert fitted_whole.startswith("reduced: baselines on every fit row")


@pytest.fixture(scope="module")
def sampled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, TrainResult]:
    work = tmp_path_factory.mktemp("sampled")
    settings = load_settings(work_dir=work, evaluation_rows=SAMPLED_ROWS)
    return settings, train_on_sample(settings)


@pytest.fixture(scope="module")
def full(full_training: tuple[Settings, TrainResult]) -> tuple[Settings, TrainResult]:
    return full_training


def _tables(report: Path) -> list[str]:
    import re

    return re.findall(r"<table>.*?</table>", report.read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.slow
def test_a_sampled_evaluation_is_reported_as_such(
    sampled: tuple[Settings, TrainResult],
) -> None:
    _, result = sampled
    html = result.report.read_text(encoding="utf-8")
    assert "sampled: baselines on at most 5,000 fit rows" in html  # the model card
    assert "learning-curve refits skipped" in html
    for target in ("escalation", "collective"):
        rows = result.fit_rows[target]
        assert rows["baselines"] == SAMPLED_ROWS < rows["fit"]
        assert rows["learning_curve_refits"] == 0
        assert f"fitted on {SAMPLED_ROWS:,} of {rows['fit']:,} fit rows" in html
        assert f"在 {rows['fit']:,} 个训练行中的 {SAMPLED_ROWS:,} 行上拟合" in html
    assert html.count("the refits on the most recent 25% and 50% were skipped") == 2
    curves = [t for t in _tables(result.report) if "<th>share</th>" in t]
    assert len(curves) == 2 and all(c.count("<tr>") == 2 for c in curves)  # the model's point


@pytest.mark.slow
def test_the_full_evaluation_fits_everything_on_every_row(
    full: tuple[Settings, TrainResult],
) -> None:
    _, result = full
    html = result.report.read_text(encoding="utf-8")
    assert "full: baselines fitted on every fit row, learning curve refitted" in html
    for target in ("escalation", "collective"):
        rows = result.fit_rows[target]
        assert rows["baselines"] == rows["fit"] and rows["learning_curve_refits"] == 2
        assert f"fitted on every one of the {rows['fit']:,} fit rows" in html
    curves = [t for t in _tables(result.report) if "<th>share</th>" in t]
    assert len(curves) == 2 and all(c.count("<tr>") == 4 for c in curves)  # 25%, 50%, 100%


@pytest.mark.slow
def test_the_model_does_not_depend_on_the_evaluation(
    sampled: tuple[Settings, TrainResult], full: tuple[Settings, TrainResult]
) -> None:
    features = build_features(load_dataset(sample_dataset()), [AS_OF])
    models = {}
    for name, (settings, result) in (("sampled", sampled), ("full", full)):
        models_registry.connect(settings)
        models[name] = {
            target: models_registry.load(target, version)[0]
            for target, version in result.versions.items()
        }
    for target in ("escalation", "collective"):
        one, other = models["sampled"][target], models["full"][target]
        assert np.array_equal(one.probability(features), other.probability(features))
        assert (one.threshold, one.medium_threshold) == (other.threshold, other.medium_threshold)
        assert sampled[1].metrics[target] == full[1].metrics[target]  # the model's backtest


def test_full_evaluation_option_reaches_the_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from earlywarn.cli import app

    seen: list[Settings] = []

    def fake_training(dataset: object, until: object, settings: Settings, *rest: object) -> object:
        seen.append(settings)
        return TrainResult({}, {}, tmp_path / "report.html")

    monkeypatch.setattr("earlywarn.training.pipeline.train", fake_training)  # read when run
    monkeypatch.chdir(tmp_path)  # no earlywarn.toml: the settings' defaults
    monkeypatch.delenv("EARLYWARN_EVALUATION_ROWS", raising=False)
    monkeypatch.delenv("EARLYWARN_LEARNING_CURVE", raising=False)
    monkeypatch.setenv("EARLYWARN_WORK_DIR", str(tmp_path / "work"))
    runner = CliRunner()
    data = str(sample_dataset())
    for arguments in (["train", "--data", data], ["train", "--data", data, "--full-evaluation"]):
        outcome = runner.invoke(app, arguments)
        assert outcome.exit_code == 0, outcome.output
    default, full_run = seen
    assert (default.evaluation_rows, default.learning_curve) == (50_000, False)
    assert (full_run.evaluation_rows, full_run.learning_curve) == (0, True)
