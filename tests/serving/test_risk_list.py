"""The daily list job: idempotent, atomic, exported; on the sample with the small test models."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.contract import Dataset
from earlywarn.models.registry import LoadedModels
from earlywarn.serving import risk_list
from earlywarn.serving.risk_list import build_risk_list
from earlywarn.serving.store import RiskList, RiskListItem
from earlywarn.settings import Settings

DAY = dt.date(2025, 10, 31)


def _items(sessions: sessionmaker[Session]) -> int:
    """Rows stored for DAY (other tests store other days in the same store)."""
    with sessions() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(RiskListItem)
                .join(RiskList, RiskListItem.list_id == RiskList.id)
                .where(RiskList.list_date == DAY)
            )
            or 0
        )


def test_same_day_same_models_same_list_no_duplicates(
    settings: Settings, sessions: sessionmaker[Session], sample: Dataset, champions: LoadedModels
) -> None:
    first = build_risk_list(settings, sample, DAY, sessions, champions)
    second = build_risk_list(settings, sample, DAY, sessions, champions)
    assert not second.changed  # the first call may have stored it, or found it stored
    assert first.checksum == second.checksum
    assert _items(sessions) == first.rows
    with sessions() as session:
        lists = select(func.count()).select_from(RiskList).where(RiskList.list_date == DAY)
        assert session.scalar(lists) == 1
    assert first.as_of == dt.datetime(2025, 11, 1)


def test_exports_open(
    settings: Settings, sessions: sessionmaker[Session], sample: Dataset, champions: LoadedModels
) -> None:
    result = build_risk_list(settings, sample, DAY, sessions, champions)
    book = openpyxl.load_workbook(io.BytesIO(result.files["xlsx"].read_bytes()), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0][0] == "排名 rank"
    assert 1 < len(rows) < result.rows + 1  # the high and medium bands, not every case
    assert {row[5] for row in rows[1:]} <= {"high", "medium"}
    assert result.files["csv"].read_bytes().startswith("\ufeff".encode())
    header = result.files["scores"].read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("case_id,as_of,escalation_probability")


def test_a_crash_leaves_the_previous_list_intact(
    settings: Settings,
    sessions: sessionmaker[Session],
    sample: Dataset,
    champions: LoadedModels,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = build_risk_list(settings, sample, DAY, sessions, champions)
    real_checksum = risk_list.checksum_of

    def failing_insert(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    # A different checksum forces a rebuild; the insert then fails half-way.
    monkeypatch.setattr(risk_list, "checksum_of", lambda items, versions: "x" * 64)
    monkeypatch.setattr(risk_list, "insert", failing_insert)
    with pytest.raises(RuntimeError, match="disk full"):
        build_risk_list(settings, sample, DAY, sessions, champions)
    monkeypatch.setattr(risk_list, "checksum_of", real_checksum)
    with sessions() as session:
        stored = session.scalars(select(RiskList).where(RiskList.list_date == DAY)).one()
    assert stored.checksum == before.checksum
    assert _items(sessions) == before.rows
