"""The simulator: valid, deterministic, calibrated, and with a truth worth comparing to."""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

from earlywarn.contract import load_dataset
from earlywarn.features.labels import label_targets, scoring_population
from earlywarn.resources import sample_dataset
from earlywarn.simulator.calibration import MEASURES, calibration_table
from earlywarn.simulator.export import simulate_to_directory
from earlywarn.simulator.run import SimulationConfig

SMALL = SimulationConfig(cases=600, start=dt.date(2024, 1, 1), end=dt.date(2024, 9, 30), seed=5)


def _digest(directory: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.iterdir())
    }


@pytest.mark.parametrize("file_format", ["parquet", "csv"])
def test_same_seed_same_bytes(tmp_path: Path, file_format: str) -> None:
    simulate_to_directory(SMALL, tmp_path / "a", file_format, dt.date(2024, 6, 1))
    simulate_to_directory(SMALL, tmp_path / "b", file_format, dt.date(2024, 6, 1))
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    if file_format == "parquet":  # an office's workbook too, its own metadata included
        from earlywarn.simulator.office_files import write_office_export

        dataset = load_dataset(tmp_path / "a")
        tables = {"cases": dataset.cases.head(20), "contacts": dataset.contacts.head(20)}
        tables["actions"] = dataset.actions.head(20) if dataset.actions is not None else None
        for run in ("xa", "xb"):
            write_office_export(tables, tmp_path / run, "xlsx-office")  # type: ignore[arg-type]
        assert _digest(tmp_path / "xa") == _digest(tmp_path / "xb")
        with zipfile.ZipFile(next((tmp_path / "xa").iterdir())) as book:
            assert "2000-01-01T00:00:00Z" in book.read("docProps/core.xml").decode()  # not now
    other = SimulationConfig(**{**SMALL.__dict__, "seed": 6})
    simulate_to_directory(other, tmp_path / "c", file_format)
    assert (
        _digest(tmp_path / "a")[f"cases.{file_format}"]
        != _digest(tmp_path / "c")[f"cases.{file_format}"]
    )


def test_output_passes_the_contract_and_hides_the_latent_state(tmp_path: Path) -> None:
    simulate_to_directory(SMALL, tmp_path / "d", "parquet")
    dataset = load_dataset(tmp_path / "d")
    assert dataset.report.ok
    assert dataset.calendar is not None and dataset.calendar["periods"]
    columns = {c for frame in (dataset.cases, dataset.contacts) for c in frame.columns}
    for hidden in ("intensity", "resolvability", "agitation", "people", "resolved"):
        assert hidden not in columns
    # Every case is registered at its first contact.
    first = dataset.contacts.group_by("case_id").agg(pl.col("occurred_at").min())
    joined = dataset.cases.join(first, on="case_id")
    assert (joined["registered_at"] == joined["occurred_at"]).all()


def test_truth_needs_a_complete_horizon(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="before the end"):
        simulate_to_directory(SMALL, tmp_path / "e", "csv", dt.date(2024, 9, 15))


@pytest.fixture(scope="module")
def sample() -> dict[str, pl.DataFrame]:
    dataset = load_dataset(sample_dataset())
    assert dataset.actions is not None
    return {"cases": dataset.cases, "contacts": dataset.contacts, "actions": dataset.actions}


@pytest.fixture(scope="module")
def truth() -> pl.DataFrame:
    return pl.read_csv(sample_dataset() / "truth.csv", try_parse_dates=True)


KEY_MEASURES = [
    "group visits among visits",
    "people per group visit",
    "reports among cases",
    "contacts above county level",
    "answers within 60 days of acceptance",
]


@pytest.mark.parametrize("name", KEY_MEASURES)
def test_sample_matches_the_brief(sample: dict[str, pl.DataFrame], name: str) -> None:
    assert name in {m.name for m in MEASURES}
    row = calibration_table(sample).filter(pl.col("measure") == name).row(0, named=True)
    assert row["within"], row


def test_truth_is_precise_and_covers_the_population(
    sample: dict[str, pl.DataFrame], truth: pl.DataFrame
) -> None:
    as_of = truth["as_of"][0]
    population = scoring_population(sample["cases"], sample["contacts"], sample["actions"], as_of)
    assert sorted(truth["case_id"]) == sorted(population["case_id"])
    assert truth.select(pl.max_horizontal("escalation_se", "collective_se").max()).item() < 0.01
    labels = label_targets(population, sample["contacts"], as_of)
    realised = truth.join(labels, on="case_id")
    assert (realised["escalation"] == realised["escalation_label"]).all()


def _rule_score(sample: dict[str, pl.DataFrame], truth: pl.DataFrame) -> np.ndarray:
    """What offices do today: three or more contacts in the last 90 days."""
    as_of = truth["as_of"][0]
    recent = (
        sample["contacts"]
        .filter(pl.col("occurred_at").is_between(as_of - dt.timedelta(days=90), as_of))
        .group_by("case_id")
        .len()
    )
    scored = truth.join(recent, on="case_id", how="left").with_columns(pl.col("len").fill_null(0))
    return (scored["len"] >= 3).cast(pl.Float64).to_numpy() + scored["len"].to_numpy() * 1e-3


def test_simple_rule_beats_chance_and_loses_to_the_oracle(
    sample: dict[str, pl.DataFrame], truth: pl.DataFrame
) -> None:
    labels = truth["escalation_label"].to_numpy()
    assert 10 <= labels.sum() <= len(labels) - 10
    rule = roc_auc_score(labels, _rule_score(sample, truth))
    oracle = roc_auc_score(labels, truth["escalation_probability"].to_numpy())
    assert 0.55 < rule < oracle, (rule, oracle)


def test_oracle_is_calibrated_on_average(truth: pl.DataFrame) -> None:
    for target in ("escalation", "collective"):
        predicted = truth[f"{target}_probability"].mean()
        realised = truth[f"{target}_label"].cast(pl.Float64).mean()
        assert isinstance(predicted, float) and isinstance(realised, float)
        # Binomial noise of the realised rate on ~3,000 cases, four standard deviations.
        assert abs(predicted - realised) < 4 * np.sqrt(max(predicted, 1e-3) / truth.height)
