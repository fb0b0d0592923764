"""What changed since the last list: new rows, moves in risk and the events behind them,
checked against the raw contacts; in the API's list route and the ledger."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from sqlalchemy import select

from earlywarn.contract import Dataset
from earlywarn.contract.rules import GROUP_THRESHOLD, end_of_day
from earlywarn.features.build import build_features, sources_for
from earlywarn.models.registry import LoadedModels
from earlywarn.serving.list_changes import (
    EVENTS,
    change_words,
    list_changes,
    previous_list,
    read_basis,
)
from earlywarn.serving.lists import change_out
from earlywarn.serving.risk_list import build_risk_list
from earlywarn.serving.store import RiskList, RiskListItem, open_store
from earlywarn.settings import load_settings

EARLIER, LATER = dt.date(2025, 10, 17), dt.date(2025, 10, 31)


@pytest.fixture(scope="module")
def two_lists(
    tmp_path_factory: pytest.TempPathFactory, sample: Dataset, champions: LoadedModels
) -> tuple[dict[str, dict[str, object]], dict[str, str], Path]:
    """A fresh store with the lists of two days, a fortnight apart."""
    settings = load_settings(work_dir=tmp_path_factory.mktemp("changes"))
    sessions = open_store(settings)
    build_risk_list(settings, sample, EARLIER, sessions, champions)
    result = build_risk_list(settings, sample, LATER, sessions, champions)
    with sessions() as session:
        rows = {}
        bands = {}
        for day in (EARLIER, LATER):
            header = session.scalars(select(RiskList).where(RiskList.list_date == day)).one()
            items = session.scalars(
                select(RiskListItem).where(RiskListItem.list_id == header.id)
            ).all()
            if day == LATER:
                rows = {i.case_id: json.loads(i.changes) | {"band": i.risk_band} for i in items}
            else:
                bands = {i.case_id: i.risk_band for i in items}
    return rows, bands, result.files["xlsx"]


def test_every_row_a_person_reads_says_what_changed(
    two_lists: tuple[dict[str, dict[str, object]], dict[str, str], Path],
) -> None:
    rows, before, _ = two_lists
    listed = {case: row for case, row in rows.items() if row["band"] != "low"}
    assert listed and all(row["since"] == EARLIER.isoformat() for row in listed.values())
    assert all(set(row) == {"band"} for row in rows.values() if row["band"] == "low")
    for case, row in listed.items():
        assert row["new"] == (before.get(case, "low") == "low"), case
        assert (row["delta"] is None) == (case not in before)
    assert any(row["new"] for row in listed.values())
    assert any(not row["new"] for row in listed.values())


def test_new_group_visits_match_the_raw_contacts(
    two_lists: tuple[dict[str, dict[str, object]], dict[str, str], Path], sample: Dataset
) -> None:
    rows, before, _ = two_lists
    between = sample.contacts.filter(
        (pl.col("occurred_at") > end_of_day(EARLIER))
        & (pl.col("occurred_at") <= end_of_day(LATER))
        & (pl.col("group_size") >= GROUP_THRESHOLD)
    )
    counted = dict(between.group_by("case_id").len().iter_rows())
    checked = 0
    for case, row in rows.items():
        if row["band"] == "low" or case not in before:
            continue
        events = {e["event"]: e["n"] for e in row["events"]}  # type: ignore[attr-defined]
        assert events.get("new_group", 0) == counted.get(case, 0), case
        checked += bool(counted.get(case))
    assert checked, "the sample has group visits in that fortnight on listed cases"


def test_changes_in_words_and_in_the_ledger(
    two_lists: tuple[dict[str, dict[str, object]], dict[str, str], Path],
) -> None:
    rows, _, xlsx = two_lists
    events = [{"event": "new_group", "n": 2}, {"event": "answer_overdue", "n": 1}]
    change = {"new": False, "delta": {"escalation": 0.123, "collective": -0.004}, "events": events}
    text = json.dumps(change)
    assert change_words(text, "zh") == [
        "越级访风险↑12.3个百分点",
        "新的集体访 2 次",
        "答复转为超期",
    ]
    assert change_words(text, "en")[0] == "escalation risk ↑ 12.3 points"
    assert change_words("{}", "zh") == []  # nothing was compared
    quiet = json.dumps({"new": False, "delta": {"escalation": 0.004}, "events": []})
    assert change_words(quiet, "en") == ["no notable change"]
    drifted = json.dumps({"new": False, "delta": {"escalation": 0.62}, "events": []})
    assert change_words(drifted, "zh") == [
        "越级访风险↑62.0个百分点",
        "无新事件，随时间推移重新评估",
    ]
    fresh = json.dumps({"new": True, "delta": None, "events": []})
    assert change_words(fresh, "en") == ["new on the list"]
    assert all(key in EVENTS for row in rows.values() for key in
               (e["event"] for e in row.get("events", [])))  # type: ignore[attr-defined]  # fmt: skip
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.read_bytes())).worksheets[0]
    header = [cell.value for cell in sheet[3]]
    column = header.index("较上期变化")
    written = [row[column] for row in sheet.iter_rows(min_row=4, values_only=True)]
    assert any(w and "新上榜" in w for w in written)


def test_the_api_answers_changes_as_data_and_words(
    two_lists: tuple[dict[str, dict[str, object]], dict[str, str], Path],
) -> None:
    rows, _, _ = two_lists
    stored = next(row for row in rows.values() if row["band"] != "low" and row["events"])
    answer = change_out(json.dumps({k: v for k, v in stored.items() if k != "band"}))
    assert answer is not None and answer.since == EARLIER
    assert len(answer.text_zh) >= len(answer.events) and answer.text_en
    assert change_out("{}") is None


def test_the_saved_basis_gives_the_changes_computed_again(
    two_lists: tuple[dict[str, dict[str, object]], dict[str, str], Path], sample: Dataset
) -> None:
    """The next day reads the previous list's basis; computing the features again at the
    earlier moment (a list without one) finds the same changes."""
    _, _, xlsx = two_lists
    settings = load_settings(work_dir=xlsx.parents[2])
    sessions = open_store(settings)
    as_of = end_of_day(LATER)
    with sessions() as session:
        header = session.scalars(select(RiskList).where(RiskList.list_date == LATER)).one()
        stored = session.scalars(
            select(RiskListItem)
            .where(RiskListItem.list_id == header.id)
            .order_by(RiskListItem.rank)
        ).all()
        items = pl.DataFrame(
            [{"case_id": i.case_id, "risk_band": i.risk_band,
              "escalation_probability": i.escalation_probability,
              "collective_probability": i.collective_probability} for i in stored]
        )  # fmt: skip
        previous = previous_list(session, LATER)
        assert previous is not None
        computed = previous.with_rows(session, items)
    basis = read_basis(xlsx.parents[1] / EARLIER.isoformat())
    assert basis is not None
    sources = sources_for(sample, end_of_day(EARLIER), as_of)
    features = build_features(sample, [as_of], sources=sources)

    def earlier(pairs: pl.DataFrame) -> pl.DataFrame:
        return build_features(sample, [end_of_day(EARLIER)], pairs, sources)

    again = list_changes(earlier, features, items, computed)
    saved = list_changes(earlier, features, items, previous.with_basis(basis, items), basis)
    assert saved == again == [i.changes for i in stored]
