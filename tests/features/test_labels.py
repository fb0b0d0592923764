"""Labels and the scoring population follow contract section 4 to the letter."""

from __future__ import annotations

import datetime as dt

import polars as pl

from earlywarn.features.labels import label_targets, scoring_population

T = dt.datetime(2025, 6, 1)


def _contacts(rows: list[tuple[str, dt.datetime, str, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "case_id": pl.String,
            "occurred_at": pl.Datetime("us"),
            "level": pl.String,
            "group_size": pl.Int32,
        },
        orient="row",
    )


def _labels(contacts: pl.DataFrame, cases: list[str]) -> dict[str, tuple[bool, bool]]:
    frame = label_targets(pl.DataFrame({"case_id": cases}), contacts, T)
    return {row[0]: (row[1], row[2]) for row in frame.iter_rows()}


def test_escalation_is_relative_to_levels_reached_up_to_t() -> None:
    contacts = _contacts(
        [
            ("a", T - dt.timedelta(days=5), "city", 1),
            ("a", T + dt.timedelta(days=3), "city", 1),  # same level: no escalation
            ("b", T - dt.timedelta(days=5), "township", 1),
            ("b", T + dt.timedelta(days=3), "county", 1),  # above township: escalation
            ("c", T + dt.timedelta(days=3), "county", 1),  # no contact before t: county is the bar
            ("d", T + dt.timedelta(days=3), "city", 1),
            ("e", T, "province", 1),  # at t belongs to the past
            ("e", T + dt.timedelta(days=30), "city", 1),  # the horizon's last moment is inside
            ("f", T + dt.timedelta(days=30, seconds=1), "national", 9),  # just outside
        ]
    )
    labels = _labels(contacts, ["a", "b", "c", "d", "e", "f"])
    assert {k: v[0] for k, v in labels.items()} == {
        "a": False,
        "b": True,
        "c": False,
        "d": True,
        "e": False,
        "f": False,
    }


def test_collective_needs_a_group_of_the_threshold_inside_the_horizon() -> None:
    contacts = _contacts(
        [
            ("a", T - dt.timedelta(days=1), "county", 40),  # before t: not a label
            ("b", T + dt.timedelta(days=1), "county", 5),
            ("c", T + dt.timedelta(days=1), "county", 4),
        ]
    )
    labels = _labels(contacts, ["a", "b", "c"])
    assert {k: v[1] for k, v in labels.items()} == {"a": False, "b": True, "c": False}
    assert label_targets(pl.DataFrame({"case_id": ["c"]}), contacts, T, group_threshold=4)[
        "collective"
    ].to_list() == [True]


def test_scoring_population() -> None:
    cases = pl.DataFrame(
        {
            "case_id": ["open", "future", "terminated", "quiet", "acted"],
            "registered_at": [T - dt.timedelta(days=400)] * 4 + [T - dt.timedelta(days=800)],
        }
    ).with_columns(
        pl.when(pl.col("case_id") == "future")
        .then(T + dt.timedelta(hours=1))
        .otherwise(pl.col("registered_at"))
        .alias("registered_at")
    )
    contacts = _contacts(
        [
            ("open", T - dt.timedelta(days=10), "county", 1),
            ("future", T + dt.timedelta(hours=2), "county", 1),
            ("terminated", T - dt.timedelta(days=10), "county", 1),
            ("quiet", T - dt.timedelta(days=366), "county", 1),
            ("acted", T - dt.timedelta(days=500), "county", 1),
        ]
    )
    actions = pl.DataFrame(
        {
            "case_id": ["terminated", "acted", "terminated"],
            "occurred_at": [
                T - dt.timedelta(days=5),
                T - dt.timedelta(days=20),
                T + dt.timedelta(days=1),
            ],
            "action_type": ["terminated", "responded", "reopened"],
        }
    )
    population = scoring_population(cases, contacts, actions, T)
    assert population["case_id"].to_list() == ["open", "acted"]
    # Without handling history, activity is judged on contacts alone.
    assert scoring_population(cases, contacts, None, T)["case_id"].to_list() == [
        "open",
        "terminated",
    ]


def test_many_moments_equal_one_at_a_time() -> None:
    from earlywarn.contract import load_dataset
    from earlywarn.features.labels import scoring_populations
    from earlywarn.resources import sample_dataset

    sample = load_dataset(sample_dataset())
    moments = [dt.datetime(2024, 3, 1) + dt.timedelta(days=45 * i, hours=i) for i in range(14)]
    together = scoring_populations(sample.cases, sample.contacts, sample.actions, moments)
    for moment in moments:
        alone = scoring_population(sample.cases, sample.contacts, sample.actions, moment)
        assert (
            together.filter(pl.col("as_of") == moment)["case_id"].to_list()
            == alone["case_id"].to_list()
        )


def test_labels_of_many_pairs_equal_one_moment_at_a_time() -> None:
    from earlywarn.contract import load_dataset
    from earlywarn.features.labels import label_pairs, scoring_populations
    from earlywarn.resources import sample_dataset

    sample = load_dataset(sample_dataset())
    moments = [dt.datetime(2024, 5, 1) + dt.timedelta(days=60 * i) for i in range(8)]
    pairs = scoring_populations(sample.cases, sample.contacts, sample.actions, moments)
    together = label_pairs(pairs, sample.contacts)
    for moment in moments:
        population = pairs.filter(pl.col("as_of") == moment).select("case_id")
        alone = label_targets(population, sample.contacts, moment)
        assert together.filter(pl.col("as_of") == moment).drop("as_of").equals(alone)
