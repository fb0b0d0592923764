"""Worlds drawn from the family: parameters inside their documented ranges, tempers that
follow the person, and the reference world left exactly as it was."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from earlywarn.simulator.export import simulate_to_directory
from earlywarn.simulator.family import RATE_RANGES, TEMPER_SPREAD, draw_parameters
from earlywarn.simulator.run import SimulationConfig, simulate
from earlywarn.simulator.world import Rates, Traits

SMALL = SimulationConfig(cases=1500, start=dt.date(2024, 1, 1), end=dt.date(2024, 9, 30), seed=4)


@pytest.mark.parametrize("seed", [0, 1, 7, 101])
def test_each_rate_is_drawn_inside_its_range(seed: int) -> None:
    rates, traits, _ = draw_parameters(seed)
    reference = asdict(Rates())
    for name, (how, low, high) in RATE_RANGES.items():
        value, base = getattr(rates, name), reference[name]
        if how == "times":
            assert min(low * base, high * base) <= value <= max(low * base, high * base), name
        elif how == "plus":
            assert base + low <= value <= base + high, name
        else:
            assert low <= value <= high, name
    assert TEMPER_SPREAD[0] <= traits.temper_spread <= TEMPER_SPREAD[1]
    assert sum(traits.category_shares) == pytest.approx(1.0)
    assert draw_parameters(seed) == (rates, traits, draw_parameters(seed)[2])  # same seed


def test_worlds_differ_from_each_other() -> None:
    first, second = draw_parameters(1), draw_parameters(2)
    assert first[0] != second[0] and first[1] != second[1]


def test_the_reference_world_has_no_traits_and_draws_as_before() -> None:
    """The defaults are the reference world: no tempers, the reference rates; and a
    config without a family seed simulates the same history as before the family."""
    result = simulate(SMALL, snapshot_day=dt.date(2024, 9, 1))
    assert result.world.traits == Traits() and result.world.rates == Rates()
    assert result.snapshot is not None
    assert np.all(result.snapshot.cases.temper == 1.0)


def test_a_petitioner_keeps_one_temper_across_matters() -> None:
    config = SimulationConfig(**{**SMALL.__dict__, "family_seed": 5})
    result = simulate(config, snapshot_day=dt.date(2024, 9, 1))
    assert result.snapshot is not None
    cases = result.snapshot.cases
    frame = pl.DataFrame({"petitioner": cases.petitioner, "temper": cases.temper})
    per_person = frame.group_by("petitioner").agg(
        pl.len().alias("matters"), pl.col("temper").n_unique().alias("tempers")
    )
    assert per_person.filter(pl.col("matters") > 1).height > 0  # repeat petitioners exist
    assert per_person["tempers"].max() == 1
    assert float(np.std(np.log(cases.temper))) > 0.1  # and people differ


def test_a_family_world_changes_the_history_and_says_so(tmp_path: Path) -> None:
    config = SimulationConfig(**{**SMALL.__dict__, "family_seed": 3})
    manifest = simulate_to_directory(config, tmp_path / "family")
    plain = simulate_to_directory(SMALL, tmp_path / "plain")
    assert manifest["rows"] != plain["rows"]
    written = json.loads((tmp_path / "family" / "simulation.json").read_text(encoding="utf-8"))
    rates, traits, _ = draw_parameters(3)
    assert written["config"]["family_seed"] == 3
    assert written["world"]["rates"] == pytest.approx(asdict(rates))
    assert written["world"]["traits"]["temper_spread"] == traits.temper_spread
    assert "world" not in plain
