"""The feature pipeline: every catalogued feature, the same answer on both paths, no leakage."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earlywarn.contract import Dataset, load_dataset
from earlywarn.features.build import build_features, sources_for
from earlywarn.features.catalogue import CASE_STATE, FEATURE_NAMES, FEATURES, catalogue_markdown
from earlywarn.features.events import KEYS
from earlywarn.features.labels import label_targets, scoring_population
from earlywarn.features.online import CaseRows, online_features
from earlywarn.features.online_context import OnlineSources
from earlywarn.resources import sample_dataset

AS_OFS = [dt.datetime(2024, 9, 1) + dt.timedelta(days=37 * i) for i in range(12)]


@pytest.fixture(scope="module")
def sample() -> Dataset:
    return load_dataset(sample_dataset())


@pytest.fixture(scope="module")
def batch(sample: Dataset) -> pl.DataFrame:
    return build_features(sample, AS_OFS)


def test_every_catalogued_feature_is_computed_and_nothing_else(batch: pl.DataFrame) -> None:
    assert batch.columns == [*KEYS, *FEATURE_NAMES, *CASE_STATE]
    assert len(set(FEATURE_NAMES)) == len(FEATURES)
    assert not set(CASE_STATE) & set(FEATURE_NAMES)
    for spec in FEATURES:
        assert spec.label_zh and spec.label_en and spec.definition and spec.unit, spec
        assert f"`{spec.name}`" in catalogue_markdown()


def test_features_vary_on_real_looking_data(batch: pl.DataFrame) -> None:
    constant = [n for n in FEATURE_NAMES if batch[n].n_unique() < 2]
    # Rejections are rare enough to be absent from a sample; everything else varies.
    assert set(constant) <= {"rejected", "in_local_event", "mediations_agreed"}, constant


def _close(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9) or (  # type: ignore[arg-type]
            math.isnan(float(a)) and math.isnan(float(b))  # type: ignore[arg-type]
        )
    return a == b


def test_many_moments_at_once_equal_each_moment_alone(sample: Dataset, batch: pl.DataFrame) -> None:
    # Training asks for many moments in one pass: each pair's rows must stay together,
    # whatever other moments of the same case share the table. Exactly equal, floats too.
    for as_of in AS_OFS[::4]:
        alone = build_features(sample, [as_of])
        together = batch.filter(pl.col("as_of") == as_of)
        assert alone.height > 0
        assert together.sort("case_id").equals(alone.sort("case_id")), as_of


def test_one_moment_summed_equals_the_running_totals_even_on_an_events_moment(
    sample: Dataset,
) -> None:
    # One moment sums each key's events up to it; four read the running totals. Moments
    # that fall exactly on events (at the as-of, 7, 30 and 90 days before it) count them
    # the same way on both.
    times = sample.contacts.sort("occurred_at")["occurred_at"].to_list()
    picked = times[len(times) // 2 :: len(times) // 9][:4]
    moments = [
        at + dt.timedelta(days=days) for at, days in zip(picked, (0, 7, 30, 90), strict=True)
    ]
    together = build_features(sample, moments)
    for moment in moments:
        alone = build_features(sample, [moment])
        assert alone.height > 0
        assert alone.sort("case_id").equals(
            together.filter(pl.col("as_of") == moment).sort("case_id")
        ), moment


def test_a_few_cases_asked_for_equal_their_rows_of_the_whole(
    sample: Dataset, batch: pl.DataFrame
) -> None:
    # A few pairs (the changes' earlier moment) read only their own cases' events and
    # their own keys' context totals: the same features, exactly.
    for as_of in AS_OFS[1::5]:
        whole = batch.filter(pl.col("as_of") == as_of).sort("case_id")
        few = whole.select(KEYS).gather_every(97)
        assert 0 < few.height * 20 < sample.contacts.height
        asked = build_features(
            sample, [as_of], pairs=few, sources=sources_for(sample, as_of, as_of)
        )
        assert asked.sort("case_id").equals(whole.join(few, on=KEYS, how="semi")), as_of
    nobody = build_features(sample, AS_OFS[:1], pairs=few.clear())
    assert nobody.is_empty() and nobody.schema == batch.schema


def test_online_path_equals_batch_on_a_thousand_pairs(sample: Dataset, batch: pl.DataFrame) -> None:
    assert sample.actions is not None
    lookup = OnlineSources.of(sources_for(sample, min(AS_OFS), max(AS_OFS)))
    chosen = batch.sample(n=1000, seed=7)
    contacts = sample.contacts.partition_by("case_id", as_dict=True)
    actions = sample.actions.partition_by("case_id", as_dict=True)
    empty_actions = sample.actions.clear()
    for expected in chosen.iter_rows(named=True):
        case_id = expected["case_id"]
        case = sample.cases.filter(pl.col("case_id") == case_id)
        # The case's whole history is posted; rows after as_of must be ignored.
        rows = CaseRows.from_frames(
            case, contacts[(case_id,)], actions.get((case_id,), empty_actions)
        )
        online = online_features(rows, expected["as_of"], lookup)
        different = {
            n: (online[n], expected[n])
            for n in (*FEATURE_NAMES, *CASE_STATE)
            if not _close(online[n], expected[n])
        }
        assert not different, (case_id, expected["as_of"], different)


def _perturb_after(dataset: Dataset, as_of: dt.datetime, seed: int) -> Dataset:
    """Drop, change and add rows strictly after ``as_of``; add cases registered after it."""
    rng = np.random.default_rng(seed)
    assert dataset.actions is not None

    def shake(frame: pl.DataFrame, changes: dict[str, pl.Expr]) -> pl.DataFrame:
        future = frame.filter(pl.col("occurred_at") > as_of)
        kept = future.filter(pl.Series(rng.random(future.height) < 0.6))
        changed = kept.with_columns(**changes)
        extra = future.sample(
            n=min(future.height, 50), seed=seed, with_replacement=True
        ).with_columns(
            (pl.col(frame.columns[0]) + "_new" + pl.int_range(pl.len()).cast(pl.String)).alias(
                frame.columns[0]
            ),
            (pl.lit(as_of) + pl.duration(seconds=pl.int_range(1, pl.len() + 1))).alias(
                "occurred_at"
            ),
            **changes,
        )
        return pl.concat([frame.filter(pl.col("occurred_at") <= as_of), changed, extra])

    contacts = shake(
        dataset.contacts,
        {
            "level": pl.lit("national", dtype=dataset.contacts.schema["level"]),
            "group_size": pl.lit(int(rng.integers(1, 300)), dtype=pl.Int32),
        },
    )
    actions = shake(
        dataset.actions,
        {
            "action_type": pl.lit("terminated", dtype=dataset.actions.schema["action_type"]),
            "outcome": pl.lit(None),
        },
    )
    late_cases = dataset.cases.head(5).with_columns(
        ("L" + pl.col("case_id")).alias("case_id"),
        pl.lit(as_of + dt.timedelta(hours=1)).alias("registered_at"),
    )
    return Dataset(
        path=dataset.path,
        cases=pl.concat([dataset.cases, late_cases]),
        contacts=contacts,
        actions=actions.with_columns(pl.col("outcome").cast(dataset.actions.schema["outcome"])),
        calendar=dataset.calendar,
        report=dataset.report,
    )


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(day=st.integers(0, 480), seed=st.integers(0, 10_000))
def test_nothing_after_as_of_reaches_any_feature(sample: Dataset, day: int, seed: int) -> None:
    as_of = dt.datetime(2024, 6, 1) + dt.timedelta(days=day, hours=seed % 24)
    before = build_features(sample, [as_of])
    after = build_features(_perturb_after(sample, as_of, seed), [as_of])
    assert before.height > 0
    for family in {spec.family for spec in FEATURES}:
        names = [s.name for s in FEATURES if s.family == family]
        assert before.select(KEYS + names).equals(after.select(KEYS + names)), family


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(day=st.integers(0, 300), seed=st.integers(0, 10_000))
def test_labels_see_only_the_horizon(sample: Dataset, day: int, seed: int) -> None:
    as_of = dt.datetime(2024, 6, 1) + dt.timedelta(days=day)
    horizon_end = as_of + dt.timedelta(days=30)
    population = scoring_population(sample.cases, sample.contacts, sample.actions, as_of)
    labels = label_targets(population, sample.contacts, as_of)
    shaken = _perturb_after(sample, horizon_end, seed)
    assert label_targets(population, shaken.contacts, as_of).equals(labels)


def test_without_handling_history_both_paths_leave_it_missing(sample: Dataset) -> None:
    bare = Dataset(sample.path, sample.cases, sample.contacts, None, sample.calendar, sample.report)
    as_of = dt.datetime(2025, 3, 1)
    batch = build_features(bare, [as_of])
    handling = [s.name for s in FEATURES if s.family == "handling" and s.name != "case_age_days"]
    assert batch.select(pl.col(handling).is_null().all()).row(0) == tuple([True] * len(handling))
    lookup = OnlineSources.of(sources_for(bare, as_of, as_of))
    contacts = sample.contacts.partition_by("case_id", as_dict=True)
    for expected in batch.sample(n=100, seed=3).iter_rows(named=True):
        case = sample.cases.filter(pl.col("case_id") == expected["case_id"])
        rows = CaseRows.from_frames(case, contacts[(expected["case_id"],)], None)
        online = online_features(rows, as_of, lookup)
        names = (*FEATURE_NAMES, *CASE_STATE)
        assert all(_close(online[n], expected[n]) for n in names), expected["case_id"]


def test_docs_show_the_current_catalogue() -> None:
    from pathlib import Path

    from earlywarn.features.catalogue import BEGIN_MARK, END_MARK

    docs = Path(__file__).resolve().parents[2] / "docs" / "features.md"
    section = docs.read_text(encoding="utf-8").split(BEGIN_MARK)[1].split(END_MARK)[0]
    assert section.strip() == catalogue_markdown().strip(), "run `make docs`"
