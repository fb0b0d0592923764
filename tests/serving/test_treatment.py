"""The treatment ledger and training that leaves out the outcomes an action touched."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from sqlalchemy import select

from earlywarn.contract import Dataset
from earlywarn.models.registry import LoadedModels
from earlywarn.serving.risk_list import build_risk_list
from earlywarn.serving.store import ApiKey, Review, RiskList, RiskListItem, open_store
from earlywarn.serving.treatment import acted_on, treatment_ledger
from earlywarn.settings import load_settings
from earlywarn.training.snapshots import without_treated

DAY = dt.date(2025, 10, 31)


def test_rows_whose_outcome_window_holds_an_action_are_left_out() -> None:
    moments = [dt.datetime(2025, 1, 1) + dt.timedelta(days=7 * n) for n in range(10)]
    snapshots = pl.DataFrame(
        {"case_id": ["A"] * 10 + ["B"] * 10, "as_of": moments * 2, "x": range(20)}
    )
    acted = pl.DataFrame({"case_id": ["A"], "acted_at": [dt.datetime(2025, 2, 1, 10)]})
    kept = without_treated(snapshots, acted, horizon_days=30)
    gone = snapshots.join(kept, on=["case_id", "as_of"], how="anti")
    # A's moments within the 30 days before the action: Jan 8, 15, 22, 29.
    assert gone["case_id"].to_list() == ["A"] * 4
    assert gone["as_of"].min() == dt.datetime(2025, 1, 8)
    assert gone["as_of"].max() == dt.datetime(2025, 1, 29)
    assert without_treated(snapshots, None, 30).equals(snapshots)


def test_the_ledger_joins_listed_rows_with_their_latest_review(
    tmp_path_factory: pytest.TempPathFactory, sample: Dataset, champions: LoadedModels
) -> None:
    settings = load_settings(work_dir=tmp_path_factory.mktemp("treatment"))
    sessions = open_store(settings)
    build_risk_list(settings, sample, DAY, sessions, champions)
    with sessions.begin() as session:
        header = session.scalars(select(RiskList).where(RiskList.list_date == DAY)).one()
        first, second = session.scalars(
            select(RiskListItem.case_id)
            .where(RiskListItem.list_id == header.id, RiskListItem.risk_band == "high")
            .limit(2)
        ).all()
        key = ApiKey(prefix="ew_t", key_hash="h" * 64, role="office")
        session.add(key)
        session.flush()
        when = dt.datetime(2025, 11, 1, 1, 30)  # UTC: 09:30 in the office
        session.add_all([
            Review(list_date=DAY, case_id=first, decision="acknowledged", key_id=key.id,
                   created_at=when),
            Review(list_date=DAY, case_id=first, decision="action_taken", step="dialogue",
                   key_id=key.id, created_at=when + dt.timedelta(hours=1)),
            Review(list_date=DAY, case_id=second, decision="dismissed", reason="known",
                   key_id=key.id, created_at=when),
        ])  # fmt: skip
    with sessions() as session:
        ledger = treatment_ledger(session)
        treated = acted_on(session)
    listed = ledger.filter(pl.col("list_date") == DAY)
    assert listed.height == listed["case_id"].n_unique() and (listed["risk_band"] != "low").all()
    row = listed.filter(pl.col("case_id") == first).row(0, named=True)
    assert row["acted"] and row["step"] == "dialogue"
    assert row["reviewed_at"] == dt.datetime(2025, 11, 1, 10, 30)  # office time
    assert not listed.filter(pl.col("case_id") == second)["acted"].item()
    assert treated.to_dicts() == [{"case_id": first, "acted_at": dt.datetime(2025, 11, 1, 10, 30)}]
