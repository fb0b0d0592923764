"""The petitioner's other matters, counted from the rows themselves: recent contacts,
unsatisfied ratings and matters still open, never the case's own."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from earlywarn.contract import Dataset, load_dataset
from earlywarn.features.build import build_features
from earlywarn.resources import sample_dataset

AS_OF = dt.datetime(2025, 6, 1)
LINKED = (
    "petitioner_other_contacts_90d", "petitioner_other_unsatisfied", "petitioner_other_open_cases"
)  # fmt: skip


@pytest.fixture(scope="module")
def sample() -> Dataset:
    return load_dataset(sample_dataset())


def _by_hand(dataset: Dataset, case_id: str, petitioner: str) -> dict[str, int]:
    others = dataset.cases.filter(
        (pl.col("petitioner_id") == petitioner)
        & (pl.col("case_id") != case_id)
        & (pl.col("registered_at") <= AS_OF)
    )["case_id"]
    contacts = dataset.contacts.filter(
        pl.col("case_id").is_in(others.implode())
        & (pl.col("occurred_at") > AS_OF - dt.timedelta(days=90))
        & (pl.col("occurred_at") <= AS_OF)
    )
    steps = dataset.actions.filter(
        pl.col("case_id").is_in(others.implode()) & (pl.col("occurred_at") <= AS_OF)
    )
    kind = pl.col("action_type").cast(pl.String)
    unsatisfied = steps.filter((kind == "satisfaction") & (pl.col("outcome") == "unsatisfied"))
    settled = steps.filter(kind == "closed").height - steps.filter(kind == "reopened").height
    return {
        "petitioner_other_contacts_90d": contacts.height,
        "petitioner_other_unsatisfied": unsatisfied.height,
        "petitioner_other_open_cases": max(others.len() - settled, 0),
    }


def test_linked_matters_are_counted_from_the_other_cases_only(sample: Dataset) -> None:
    features = build_features(sample, [AS_OF])
    repeat = (
        sample.cases.filter(pl.col("registered_at") <= AS_OF)
        .group_by("petitioner_id")
        .len()
        .filter(pl.col("len") > 1)["petitioner_id"]
    )
    linked = (
        features.join(sample.cases.select("case_id", "petitioner_id"), on="case_id")
        .filter(pl.col("petitioner_id").is_in(repeat.implode()))
        .sort("case_id")
    )
    assert linked.height >= 10  # the sample has repeat petitioners at this moment
    assert linked.select(pl.sum_horizontal(LINKED).sum()).item() > 0  # something to count
    for row in linked.iter_rows(named=True):
        expected = _by_hand(sample, row["case_id"], row["petitioner_id"])
        assert {n: row[n] for n in LINKED} == expected, row["case_id"]
