"""Leaving out the treated outcomes, tested where an intervention's effect is known.

Two runs of one simulated world from the same morning, with common random numbers:
nobody acts, or an office acts on the oracle's list with strong effects. A training
row's label in the first run is what the case would have done; in the second, what
it did. The rows ``without_treated`` leaves out are those whose label the office's
action changed inside their outcome window; the rows kept after an action carry the
action in the case's history, where the features see it (docs/treatment.md).
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import polars as pl

from earlywarn.contract.loader import trusted_dataset
from earlywarn.features.labels import label_pairs, scoring_populations
from earlywarn.models.capacity import Capacity
from earlywarn.simulator.interventions import RECORDED_AS, Effects
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

    # Acted on inside the outcome window: far fewer escalate or see a group than would
    # have; these labels say what the action did, and training leaves them out.
    assert rate(left_out, "happened") < 0.6 * rate(left_out, "happened_untouched")
    # Kept rows after an action: the action is in the case's history (a leader
    # reception or a mediation written down before the row's moment), so the
    # features can tell a treated case from an untreated one.
    leader_or_mediator = [
        any(step in RECORDED_AS for step in steps) for _, _, steps, _ in acted.ledger
    ]  # chasing a unit leaves no record of its own
    treated = acted.treated().filter(pl.Series(leader_or_mediator))
    first_action = treated.group_by("case_id").agg(pl.col("acted_at").min())
    after = kept.join(first_action, on="case_id").filter(pl.col("as_of") > pl.col("acted_at"))
    tables = acted.history.tables()
    written = tables["actions"].filter(
        pl.col("action_type").is_in(["leader_reception", "mediation"])
    )
    seen = (
        after.join(written.select("case_id", "occurred_at"), on="case_id")
        .filter(pl.col("occurred_at") < pl.col("as_of"))
        .select("case_id", "as_of")
        .unique()
    )
    assert after.height > 0 and seen.height == after.height
