"""The daily job explains the rows people read; the other listed rows are explained when
opened, from the saved features and the list's own models, with the same result."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.contract import Dataset
from earlywarn.contract.rules import end_of_day
from earlywarn.features.build import build_features
from earlywarn.models import scoring
from earlywarn.models.reasons import to_json
from earlywarn.models.registry import LoadedModels
from earlywarn.models.scoring import score_frame
from earlywarn.models.steps import to_json as steps_to_json
from earlywarn.serving import reasons_later
from earlywarn.serving.access import Role, create_key
from earlywarn.serving.app import create_app
from earlywarn.serving.list_files import UNEXPLAINED
from earlywarn.serving.reasons_later import version_numbers, waiting, with_reasons
from earlywarn.serving.risk_list import RiskListResult, build_risk_list
from earlywarn.serving.scorer import Scorer
from earlywarn.serving.store import RiskList, RiskListItem, open_store
from earlywarn.serving.web.casefile import case_file, score_request
from earlywarn.settings import Settings, load_settings

DAY = dt.date(2025, 10, 31)
Built = tuple[Settings, sessionmaker[Session], RiskListResult]


@pytest.fixture(scope="module")
def narrow(
    tmp_path_factory: pytest.TempPathFactory,
    settings: Settings,
    sample: Dataset,
    champions: LoadedModels,
) -> Built:
    """A list whose capacity is one case: the job explains the flagged rows only."""
    fresh = load_settings(
        work_dir=tmp_path_factory.mktemp("narrow"),
        mlflow_tracking_uri=settings.tracking_uri,  # the shared registry: the same versions
        capacity_share=0.0001,
        capacity_minimum=1,
    )
    sessions = open_store(fresh)
    return fresh, sessions, build_risk_list(fresh, sample, DAY, sessions, champions)


def _stored(sessions: sessionmaker[Session]) -> tuple[RiskList, list[RiskListItem]]:
    with sessions() as session:
        header = session.scalars(select(RiskList).where(RiskList.list_date == DAY)).one()
        items = list(
            session.scalars(
                select(RiskListItem)
                .where(RiskListItem.list_id == header.id)
                .order_by(RiskListItem.rank)
            )
        )
        session.expunge_all()
    return header, items


def test_the_job_explains_the_flagged_rows_and_leaves_the_rest_for_later(narrow: Built) -> None:
    _, sessions, result = narrow
    _, items = _stored(sessions)
    flagged = [i for i in items if i.escalation_flag or i.collective_flag]
    later = [i for i in items if waiting(i)]
    assert flagged and all(not waiting(i) for i in flagged)
    assert later and {i.risk_band for i in later} == {"medium"}
    assert max(i.rank for i in flagged) < min(i.rank for i in later)  # read from the top
    saved = pl.read_parquet(result.files[UNEXPLAINED])
    assert saved["case_id"].to_list() == sorted(i.case_id for i in later)
    ledger = pl.read_csv(result.files["csv"], infer_schema=False)
    assert ledger.height == len(flagged)  # the printed rows are the explained ones


def test_reasons_on_demand_are_the_ones_the_job_would_have_written(
    narrow: Built, sample: Dataset, champions: LoadedModels
) -> None:
    fresh, sessions, _ = narrow
    header, items = _stored(sessions)
    features = build_features(sample, [end_of_day(DAY)])
    everything = score_frame(champions, features)  # every listed row explained at once
    expected = {
        case_id: (to_json(reasons), steps_to_json(steps))
        for case_id, reasons, steps in zip(
            features["case_id"].to_list(), everything.reasons, everything.steps, strict=True
        )
    }
    # A service that does not serve those versions loads them from the registry.
    reasons_later._models_of.cache_clear()
    completed = with_reasons(Scorer(fresh, None), header, items)
    assert not any(waiting(i) for i in completed)
    for item in completed:
        if item.risk_band != "low":
            assert (item.reasons, item.steps) == expected[item.case_id], item.case_id
    with sessions() as session:  # nothing was written back
        stored = session.scalars(
            select(RiskListItem.reasons).where(RiskListItem.list_id == header.id)
        )
        assert sum(1 for r in stored if r == "[]") > 0


def test_the_api_list_route_and_its_export_show_reasons_for_every_listed_row(
    narrow: Built, champions: LoadedModels, sample: Dataset
) -> None:
    fresh, sessions, _ = narrow
    scorer = Scorer(fresh, None)
    scorer.use(champions)
    scorer.load_sources(sample)
    header, listed = _stored(sessions)
    top = listed[0]
    found = case_file(sample, top.case_id, header.as_of)
    assert found is not None
    request = score_request(found, header.as_of)
    before = scorer.score(request)
    assert before.escalation.probability == top.escalation_probability
    with sessions.begin() as session:
        token = create_key(session, Role.ANALYST).token
    client = TestClient(create_app(scorer, sessions), raise_server_exceptions=False)
    answer = client.get(
        f"/v1/risk-lists/{DAY}",
        params={"band": "medium", "page_size": 500},
        headers={"X-API-Key": token},
    )
    assert answer.status_code == 200
    items = answer.json()["items"]
    assert items and all(item["reasons"] and item["recommended_steps"] for item in items)
    exported = client.get(
        f"/v1/risk-lists/{DAY}/export",
        params={"band": "medium", "format": "csv"},
        headers={"X-API-Key": token},
    )
    assert exported.status_code == 200
    ledger = pl.read_csv(exported.content, infer_schema=False)
    assert ledger.height == len(items)
    assert ledger["主要原因"].null_count() == 0 and ledger["建议措施"].null_count() == 0
    # Explaining those rows tree by tree left the single-row scores as they were (it
    # once made every later API score use one tree).
    assert scorer.score(request) == before  # contributions and probabilities alike


def test_a_missing_features_file_leaves_the_rows_as_stored(
    narrow: Built,
    champions: LoadedModels,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fresh, sessions, _ = narrow
    header, items = _stored(sessions)
    scorer = Scorer(fresh, None)
    scorer.use(champions)
    monkeypatch.setattr(reasons_later, "list_folder", lambda *_: tmp_path)
    with caplog.at_level(logging.ERROR):
        shown = with_reasons(scorer, header, items)
    assert shown == items
    assert "cannot be computed" in caplog.text


def test_version_numbers_are_read_from_the_lists_version_text() -> None:
    text = "earlywarn-escalation/3, earlywarn-collective/12"
    assert version_numbers(text) == {"escalation": "3", "collective": "12"}


@pytest.mark.parametrize("ahead", [True, False], ids=["explained-ahead", "in-turn"])
def test_a_table_with_nothing_to_explain_for_a_target_is_scored(
    sample: Dataset, champions: LoadedModels, monkeypatch: pytest.MonkeyPatch, ahead: bool
) -> None:
    # A night may flag nothing on one target, or nothing at all: that target's TreeSHAP
    # gets no rows (LightGBM refuses an empty matrix) and the other's reasons are made.
    monkeypatch.setattr(scoring, "AHEAD_FROM", 0 if ahead else 10**9)
    features = build_features(sample, [end_of_day(DAY)])
    escalation, collective = champions.models["escalation"], champions.models["collective"]

    def escalation_only(probability: dict[str, np.ndarray], _: np.ndarray) -> np.ndarray:
        return np.asarray(
            (probability["escalation"] >= escalation.medium_threshold)
            & (probability["collective"] < collective.medium_threshold)
        )

    scored = score_frame(champions, features, choose=escalation_only)
    chosen = escalation_only(scored.probability, scored.risk_band)
    assert chosen.sum() > 0
    assert not any(scored.reasons_by_target["collective"])
    assert all(scored.reasons[i] for i in np.flatnonzero(chosen))
    nothing = score_frame(champions, features, choose=lambda _, band: band == "none")
    assert not any(nothing.reasons) and nothing.risk_band.size == features.height
