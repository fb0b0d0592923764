"""Targets and the scoring population, exactly as the data contract defines them (section 4).

Labels look only at rows inside the horizon ``(t, t + H]``, and at the levels
reached up to ``t`` for the escalation threshold; they live beside the features
they must never leak into.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from earlywarn.contract.spec import LEVELS

DEFAULT_HORIZON_DAYS = 30
DEFAULT_GROUP_THRESHOLD = 5
POPULATION_LOOKBACK_DAYS = 365
_LEVEL_RANK = {name: rank for rank, name in enumerate(LEVELS)}
_COUNTY_RANK = _LEVEL_RANK["county"]


def _level_rank() -> pl.Expr:
    return pl.col("level").cast(pl.String).replace_strict(_LEVEL_RANK, return_dtype=pl.Int8)


def scoring_population(
    cases: pl.DataFrame, contacts: pl.DataFrame, actions: pl.DataFrame | None, as_of: dt.datetime
) -> pl.DataFrame:
    """Cases registered at or before ``as_of``, not terminated then, active in the last year.

    Returns one column, ``case_id``, in the order of ``cases``.
    """
    since = as_of - dt.timedelta(days=POPULATION_LOOKBACK_DAYS)
    activity = [contacts.select("case_id", "occurred_at")]
    terminated = pl.DataFrame(schema={"case_id": pl.String})
    if actions is not None:
        activity.append(actions.select("case_id", "occurred_at"))
        terminated = actions.filter(
            (pl.col("action_type").cast(pl.String) == "terminated")
            & (pl.col("occurred_at") <= as_of)
        ).select("case_id")
    recent = (
        pl.concat(activity)
        .filter((pl.col("occurred_at") <= as_of) & (pl.col("occurred_at") >= since))
        .select("case_id")
        .unique()
    )
    return (
        cases.filter(pl.col("registered_at") <= as_of)
        .join(terminated, on="case_id", how="anti")
        .join(recent, on="case_id", how="semi", maintain_order="left")
        .select("case_id")
    )


def label_targets(
    population: pl.DataFrame,
    contacts: pl.DataFrame,
    as_of: dt.datetime,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    group_threshold: int = DEFAULT_GROUP_THRESHOLD,
) -> pl.DataFrame:
    """``escalation`` and ``collective`` for each case of ``population`` at ``as_of``.

    escalation: a contact in ``(t, t+H]`` at a level strictly higher than every
    level its contacts reached up to ``t`` (``county`` when it had none).
    collective: a contact in ``(t, t+H]`` with ``group_size >= G``.
    """
    until = as_of + dt.timedelta(days=horizon_days)
    ranked = contacts.join(population, on="case_id", how="semi").with_columns(
        _level_rank().alias("rank")
    )
    reached = (
        ranked.filter(pl.col("occurred_at") <= as_of)
        .group_by("case_id")
        .agg(pl.col("rank").max().alias("reached"))
    )
    ahead = (
        ranked.filter((pl.col("occurred_at") > as_of) & (pl.col("occurred_at") <= until))
        .group_by("case_id")
        .agg(
            pl.col("rank").max().alias("highest_ahead"),
            pl.col("group_size").max().alias("largest_ahead"),
        )
    )
    return (
        population.join(reached, on="case_id", how="left")
        .join(ahead, on="case_id", how="left")
        .select(
            "case_id",
            (
                pl.col("highest_ahead").fill_null(-1) > pl.col("reached").fill_null(_COUNTY_RANK)
            ).alias("escalation"),
            (pl.col("largest_ahead").fill_null(0) >= group_threshold).alias("collective"),
        )
    )
