"""Leaving out the treated outcomes, tested where an intervention's effect is known.

Two runs of one simulated world from the same morning, with common random numbers:
nobody acts, or an office acts on the oracle's list with strong effects. A training
row's label in the first run is what the case would have done; in the second, what
it did. The rows ``without_treated`` leaves out are those whose label the office's
action changed; the rows it keeps carry labels close to the untouched world's. So
training on what is kept does not learn "listed, therefore safe" (docs/treatment.md).
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import polars as pl

from earlywarn.contract.loader import trusted_dataset
from earlywarn.features.labels import label_pairs, scoring_populations
from earlywarn.models.capacity import Capacity
from earlywarn.simulator.interventions import Effects
from earlywarn.simulator.run import History, SimulationConfig
from earlywarn.training.snapshots import without_treated
from earlywarn.value.office import OfficeRun
from earlywarn.value.policies import NoList, OracleList

START, FIRST, END = dt.date(2024, 1, 1), dt.date(2024, 7, 1), dt.date(2024, 11, 30)
HORIZON = 30


def _labels(office: OfficeRun, moments: list[dt.datetime]) -> pl.DataFrame:
    history = office.history
    dataset = trusted_dataset(Path("simulated"), history.tables(), history.known_events)
    pairs = scoring_populations(dataset.cases, dataset.contacts, dataset.actions, moments)
    labelled = label_pairs(pairs, dataset.contacts, HORIZON)
    return labelled.select(
        "case_id", "as_of", (pl.col("escalation") | pl.col("collective")).alias("happened")
    )


def test_left_out_rows_are_the_ones_whose_outcome_the_action_changed() -> None:
    config = SimulationConfig(cases=3000, start=START, end=END, seed=8, common_days_from=FIRST)
    history = History(config)
    while history.day < (FIRST - START).days:
        history.run_day()
    last = (END - START).days
    runs = []
    for policy, effects in ((NoList(), Effects()), (OracleList(), Effects(scale=3.0, failure=0))):
        office = OfficeRun(copy.deepcopy(history), policy, effects, Capacity(0.02, 20), 30, 8)
        office.run_until(last)
        runs.append(office)
    untouched, acted = runs
    moments = [
        dt.datetime.combine(FIRST, dt.time()) + dt.timedelta(days=7 * n)
        for n in range(((END - FIRST).days - HORIZON) // 7)
    ]
    would, did = _labels(untouched, moments), _labels(acted, moments)
    both = did.join(would, on=["case_id", "as_of"], suffix="_untouched")
    kept = without_treated(both, acted.treated(), HORIZON)
    left_out = both.join(kept, on=["case_id", "as_of"], how="anti")
    assert left_out.height > 0 and kept.height > 3 * left_out.height

    def rate(frame: pl.DataFrame, column: str) -> float:
        return float(frame[column].cast(pl.Float64).mean() or 0.0)

    print(
        rate(left_out, "happened"),
        rate(left_out, "happened_untouched"),
        rate(kept, "happened"),
        rate(kept, "happened_untouched"),
        (kept["happened"] != kept["happened_untouched"]).mean(),
        (left_out["happened"] != left_out["happened_untouched"]).mean(),
    )
    # Acted on: far fewer of the rows escalate or see a group than would have.
    assert rate(left_out, "happened") < 0.6 * rate(left_out, "happened_untouched")
    # Kept: the labels stay close to the untouched world's.
    changed_kept = (kept["happened"] != kept["happened_untouched"]).mean()
    changed_left_out = (left_out["happened"] != left_out["happened_untouched"]).mean()
    assert changed_kept < 0.5 * changed_left_out
