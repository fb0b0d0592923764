"""Training end to end on the sample: registry, promotion, score file, behaviour of the models."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from earlywarn.contract import load_dataset
from earlywarn.features.build import build_features
from earlywarn.models import registry as models_registry
from earlywarn.models.artifact import RiskModel
from earlywarn.models.reference import FLAG_SHARE_KEY
from earlywarn.models.scoring import score_table
from earlywarn.resources import sample_dataset
from earlywarn.settings import Settings
from earlywarn.training import registry
from earlywarn.training.pipeline import TrainResult, command_line

pytestmark = pytest.mark.slow
AS_OF = dt.datetime(2025, 11, 1)


@pytest.fixture(scope="module")
def settings(full_training: tuple[Settings, TrainResult]) -> Settings:
    return full_training[0]


@pytest.fixture(scope="module")
def trained(full_training: tuple[Settings, TrainResult]) -> TrainResult:
    return full_training[1]


def test_every_version_has_a_signature_and_the_report_exists(
    settings: Settings, trained: TrainResult
) -> None:
    client = models_registry.connect(settings)
    for target, version in trained.versions.items():
        details = client.get_model_version(models_registry.model_name(target), version)
        info = __import__("mlflow").models.get_model_info(details.source)
        assert info.signature is not None, target
        # Each backtest day's share flagged, which monitoring holds a day against.
        model, _ = models_registry.load(target, version)
        shares = model.meta[FLAG_SHARE_KEY]
        assert shares and all(0.0 <= share <= 1.0 for share in shares), target
    assert trained.report.exists()
    assert (trained.report.parent / "escalation_curves.png").exists()
    html = trained.report.read_text(encoding="utf-8")
    for needed in (
        "office rule",
        "logistic regression",
        "HistGradientBoosting",
        "Bias audit",
        "Learning curve",
        "oracle",
        "模型卡 / Model card",
        "越级访 escalation",
        "学习曲线 / Learning curve",
        "如何阅读本报告 / How to read this report",  # every figure and baseline in words
        "结论 / What the backtest says",  # first: the list against the office's rule
        "cases that had the event, the office rule",
        "用途 / intended use",  # the card's entries named in both languages
        "局限 / limits",
        "3 or more contacts in 90 days",
        "equal-count bins",
    ):
        assert needed in html
    assert "{&#x27;" not in html  # the card's windows and versions as text, not Python's repr
    assert "caught_less" in html and "tpr_vs_all" in html  # each group judged
    # What the daily list would have flagged each backtest day, and by which thresholds.
    assert "flagged_at_threshold" in html and "预警与中风险阈值 / thresholds" in html
    logged = models_registry.connect(settings).get_run(trained.run_id).data.metrics
    for target in trained.versions:
        for by in ("county_code", "category"):
            assert f"{target}_bias_{by}_groups_caught_less" in logged


def test_model_beats_the_office_rule(trained: TrainResult) -> None:
    for figures in trained.metrics.values():
        assert figures["roc_auc"] > 0.7
        assert figures["ece"] < 0.05


def test_the_oracle_figures_compare_like_with_like(trained: TrainResult) -> None:
    """Against the simulated truth: ratios of the model's figures to the oracle's, and the
    true risk each list at capacity holds; no list can hold more than the oracle's own."""
    for target, figures in trained.oracle.items():
        assert figures["ratio"] == pytest.approx(
            figures["model_roc_auc"] / figures["oracle_roc_auc"]
        )
        assert figures["average_precision_ratio"] == pytest.approx(
            figures["model_average_precision"] / figures["oracle_average_precision"]
        )
        assert 0 < figures["model_list_risk"] <= figures["oracle_list_risk"] + 1e-12, target
        assert 0.3 < figures["list_risk_ratio"] <= 1.0, target
    assert set(trained.oracle) == {"escalation", "collective"}


def _models(settings: Settings, trained: TrainResult) -> dict[str, RiskModel]:
    models_registry.connect(settings)
    return {
        target: models_registry.load(target, version)[0]
        for target, version in trained.versions.items()
    }


def test_promotion_refuses_worse_and_accepts_better(
    settings: Settings, trained: TrainResult
) -> None:
    client = models_registry.connect(settings)
    target, version = "escalation", trained.versions["escalation"]
    assert registry.promote(client, target, version).promoted  # the first champion
    model = _models(settings, trained)[target]
    sample = build_features(load_dataset(sample_dataset()), [AS_OF]).head(100)
    roc, precision = 0.80, 0.10
    common = {"compared_with_champion": version, "champion_backtest_roc_auc": str(roc),
              "champion_backtest_precision_at_capacity": str(precision)}  # fmt: skip
    import mlflow

    with mlflow.start_run():
        worse = registry.register(
            model,
            sample,
            common | {"backtest_roc_auc": "0.79", "backtest_precision_at_capacity": "0.2"},
        )
        better = registry.register(
            model,
            sample,
            common | {"backtest_roc_auc": "0.81", "backtest_precision_at_capacity": "0.1"},
        )
    refused = registry.promote(client, target, worse)
    assert not refused.promoted and "does not beat" in refused.message
    assert models_registry.champion_version(client, target) == version
    assert not registry.promote(client, target, worse, force=True).promoted  # a reason is required
    assert registry.promote(client, target, better).promoted
    assert models_registry.champion_version(client, target) == better
    forced = registry.promote(client, target, worse, force=True, reason="rollback drill")
    assert forced.promoted
    tags = client.get_model_version(models_registry.model_name(target), worse).tags
    assert tags["promotion_forced"] == "true" and tags["promotion_reason"] == "rollback drill"


def test_same_case_scores_the_same_alone_in_a_batch_and_with_shuffled_columns(
    settings: Settings, trained: TrainResult
) -> None:
    features = build_features(load_dataset(sample_dataset()), [AS_OF])
    for model in _models(settings, trained).values():
        together = model.probability(features)
        alone = np.array(
            [model.probability(features[i : i + 1])[0] for i in range(0, features.height, 97)]
        )
        assert np.array_equal(alone, together[::97])
        shuffled = features.select(np.random.default_rng(1).permutation(features.columns).tolist())
        assert np.array_equal(model.probability(shuffled), together)


@pytest.mark.parametrize(
    ("target", "worse"),
    [
        ("escalation", {"unsatisfied_ratings": 1}),
        ("escalation", {"answer_overdue_days": 30, "answer_pending": 0}),
        ("collective", {"group_contacts": 1, "group_contacts_30d": 1, "group_contacts_90d": 1}),
    ],
)
def test_a_case_that_gets_worse_never_scores_lower(
    settings: Settings, trained: TrainResult, target: str, worse: dict[str, int]
) -> None:
    features = build_features(load_dataset(sample_dataset()), [AS_OF])
    model = _models(settings, trained)[target]
    changed = features.with_columns(
        (pl.col(name) + step).alias(name) for name, step in worse.items()
    )
    assert (model.probability(changed) >= model.probability(features) - 1e-12).all()


def test_score_file_follows_the_contract(settings: Settings, trained: TrainResult) -> None:
    features = build_features(load_dataset(sample_dataset()), [AS_OF])
    table = score_table(
        features, models_registry.loaded(_models(settings, trained), trained.versions)
    )
    assert table.columns == [
        "case_id", "as_of", "escalation_probability", "collective_probability",
        "escalation_flag", "collective_flag", "risk_band", "reasons", "model_version",
    ]  # fmt: skip
    assert table.height == features.height
    assert table["escalation_probability"].is_between(0, 1).all()
    flagged = table.filter(pl.col("escalation_flag") | pl.col("collective_flag"))
    assert flagged.height > 0
    assert (flagged["risk_band"] == "high").all()
    assert (table.filter(pl.col("risk_band") != "low")["reasons"].str.len_chars() > 0).all()


def test_cli_train_promote_score(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from earlywarn.cli import app

    monkeypatch.setenv("EARLYWARN_WORK_DIR", str(tmp_path / "work"))
    runner = CliRunner()
    data = str(sample_dataset())
    trained = runner.invoke(
        app, ["train", "--data", data, "--targets", "collective", "--tune", "2"]
    )
    assert trained.exit_code == 0, trained.output
    report = Path(trained.output.split("Report 报告: ")[1].split()[0])
    card = report.read_text(encoding="utf-8")  # the search's choice, on the model card
    assert "Optuna, 2 trials on the validation period; chosen:" in card
    # Made again from the card alone: the software and the command that trained it
    # (here the test runner's own command line: the CLI runs inside it).
    assert "软件版本 / software" in card and "训练命令 / command" in card
    # No escalation champion yet: scoring needs both, and says so.
    score = ["score", "--data", data, "--as-of", "2025-11-01", "--out", str(tmp_path / "s.csv")]
    assert runner.invoke(app, score).exit_code == 1
    promote = ["promote", "--target", "collective", "--version", "1"]
    first = runner.invoke(app, promote)  # a first champion, beside the office's rule
    assert first.exit_code == 0 and "against the office rule's 0." in first.output, first.output
    assert "What the backtest says" not in trained.output  # the CLI says the sentence itself
    assert "the office rule's" in trained.output and "95%" in trained.output
    again = runner.invoke(app, promote)  # already the champion: nothing to do, not a failure
    assert again.exit_code == 0 and "already the champion" in again.output
    listed = runner.invoke(app, ["models"])
    assert listed.exit_code == 0 and "earlywarn-collective: 1 version(s)" in listed.output
    assert (
        "    1  champion " in listed.output
        and "earlywarn-escalation: 0 version(s)" in listed.output
    )
    # Which data and which question: versions trained to one day on two datasets, or
    # for two horizons, read alike.
    assert f"horizon 30d  data {Path(data).name}  ROC-AUC" in listed.output
    bad = runner.invoke(app, ["train", "--data", data, "--targets", "weather"])
    assert bad.exit_code == 2 and "unknown targets" in bad.output
    wrong = runner.invoke(app, ["promote", "--target", "weather", "--version", "1"])
    assert wrong.exit_code == 2 and "escalation or collective" in wrong.output
    for asked in ("escalation", "escalaton=1", "collective="):  # a typo was ignored
        said = runner.invoke(app, [*score, "--model", asked])
        assert said.exit_code == 2 and "target=version" in said.output, asked
    # After the data's end every label is 0: a model calibrated there says every case
    # is safe, and one whose backtest ran past it passed the promotion gate on figures
    # counting unknown outcomes as none. Refused with the day to give, nothing registered.
    late = ["train", "--data", data, "--targets", "collective", "--until", "2027-06-01"]
    refused = runner.invoke(app, late)
    assert refused.exit_code == 2 and "is after the data's end" in refused.output
    assert "give --until" in refused.output
    assert "earlywarn-collective: 1 version(s)" in runner.invoke(app, ["models"]).output


def test_calibration_is_never_certain() -> None:
    """An isotonic block that always (or never) escalated still gets a probability
    strictly inside (0, 1); large blocks keep their rate; the map never decreases."""
    from earlywarn.training.fit import fit_calibrator

    raw = np.linspace(-3, 3, 1000)
    labels = (raw > 2.9).astype(np.int8)  # the top few all positive, the rest never
    calibrator = fit_calibrator(raw, labels)
    probability = calibrator(np.linspace(-10, 10, 5000))
    assert probability.min() > 0 and probability.max() < 1
    assert np.all(np.diff(calibrator.y) >= 0)
    low_block = labels[raw <= 2.9]
    assert calibrator(np.array([-3.0]))[0] == pytest.approx(1 / (low_block.size + 2))


def test_calibration_tells_apart_what_the_model_tells_apart() -> None:
    """Between its first and last blocks the map rises strictly, so cases the model
    scores differently never share a probability (a staircase flagged whole steps,
    several times the office's capacity); each block keeps its rate at its centre."""
    from earlywarn.training.fit import fit_calibrator

    rng = np.random.default_rng(3)
    raw = rng.normal(size=20_000)
    labels = (rng.random(raw.size) < 1 / (1 + np.exp(4 - 1.5 * raw))).astype(np.int8)
    calibrator = fit_calibrator(raw, labels)
    assert np.all(np.diff(calibrator.x) > 0) and np.all(np.diff(calibrator.y) > 0)
    inside = np.sort(raw[(raw > calibrator.x[0]) & (raw < calibrator.x[-1])])
    assert np.all(np.diff(calibrator(inside)) > 0)
    assert calibrator(raw).mean() == pytest.approx(labels.mean(), abs=0.005)
    top = raw >= np.quantile(raw, 0.98)  # the top 2%, about where a list is cut
    assert calibrator(raw[top]).mean() == pytest.approx(labels[top].mean(), abs=0.05)


def test_no_probability_is_zero_or_one(settings: Settings, trained: TrainResult) -> None:
    features = build_features(load_dataset(sample_dataset()), [AS_OF])
    for model in _models(settings, trained).values():
        probability = model.probability(features)
        assert probability.min() > 0 and probability.max() < 1


def test_a_challengers_card_says_how_it_stood_against_the_champion() -> None:
    from earlywarn.training.pipeline import _against_champions

    held = {"collective": {"compared_with_champion": "3", "champion_backtest_roc_auc": "0.8461",
                           "champion_backtest_precision_at_capacity": "0.1444"},
            "escalation": {"champion_not_comparable": "3: trained on another horizon"}}  # fmt: skip
    mine = {"collective": {"roc_auc": 0.8442, "precision_at_capacity": 0.1568}}
    said = _against_champions(held, mine)
    assert "collective: ROC-AUC 0.8442 vs champion 3's 0.8461" in said
    assert "precision at capacity 0.1568 vs 0.1444" in said
    assert "escalation: not comparable (3: trained on another horizon)" in said


def test_a_retrain_that_changed_nothing_is_not_held_in_shadow() -> None:
    """A week without a new snapshot trained the champion again: the copy was held in
    shadow for five weeks, keeping every later retrain out, then retired."""
    from earlywarn.commands.lifecycle import _same_as_champion

    held = {"compared_with_champion": "1", "champion_backtest_roc_auc": "0.8360417",
            "champion_backtest_precision_at_capacity": "0.1015"}  # fmt: skip
    assert _same_as_champion({"roc_auc": 0.8360417, "precision_at_capacity": 0.1015}, held)
    assert not _same_as_champion({"roc_auc": 0.8360418, "precision_at_capacity": 0.1015}, held)
    assert not _same_as_champion({"roc_auc": 0.8360417, "precision_at_capacity": 0.1015}, {})


def test_the_card_s_command_leaves_out_a_database_password() -> None:
    """In the address, as ?password=, after --data= or as a word of its own."""
    shown = command_line(
        ["train", "--data", "postgresql+psycopg://xf:s3cret@db/xf?sslmode=require",
         "--data=mysql+pymysql://xf@db/xf?password=s3cret", "--until", "2026-01-01"]
    )  # fmt: skip
    assert "s3cret" not in shown
    assert shown.startswith("earlywarn train --data 'postgresql+psycopg://xf:***@db/xf")
    assert "--data=" in shown and shown.endswith("--until 2026-01-01")
