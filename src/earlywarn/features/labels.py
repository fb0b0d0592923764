"""Targets and the scoring population, exactly as the data contract defines them (section 4).

Labels look only at rows inside the horizon ``(t, t + H]``, and at the levels
reached up to ``t`` for the escalation threshold; they live beside the features
they must never leak into.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from earlywarn.contract.rules import DEFAULT_HORIZON_DAYS, GROUP_THRESHOLD, POPULATION_LOOKBACK_DAYS
from earlywarn.contract.spec import LEVELS

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
    return scoring_populations(cases, contacts, actions, [as_of]).select("case_id")


def scoring_populations(
    cases: pl.DataFrame,
    contacts: pl.DataFrame,
    actions: pl.DataFrame | None,
    as_ofs: Sequence[dt.datetime],
) -> pl.DataFrame:
    """The scoring population at each moment of ``as_ofs``: rows (case_id, as_of).

    A case belongs at ``t`` when it was registered at or before ``t``, was not
    terminated at or before ``t``, and its last contact or action at or before
    ``t`` is at most 365 days old. Ordered by as_of, then as in ``cases``.
    """
    moments = sorted(set(as_ofs))
    if len(moments) == 1:
        return _population_at(cases, contacts, actions, moments[0])
    grid = pl.DataFrame({"as_of": moments}, schema={"as_of": pl.Datetime("us")})
    activity = [contacts.select("case_id", "occurred_at")]
    terminated = pl.DataFrame(schema={"case_id": pl.String, "terminated_at": pl.Datetime("us")})
    if actions is not None:
        activity.append(actions.select("case_id", "occurred_at"))
        terminated = (
            actions.filter(pl.col("action_type").cast(pl.String) == "terminated")
            .group_by("case_id")
            .agg(pl.col("occurred_at").min().alias("terminated_at"))
        )
    candidates = (
        cases.select("case_id", "registered_at")
        .with_row_index("_order")
        .join(grid, how="cross")
        .filter(pl.col("registered_at") <= pl.col("as_of"))
        .join(terminated, on="case_id", how="left")
        .filter(pl.col("terminated_at").is_null() | (pl.col("terminated_at") > pl.col("as_of")))
    )
    last = candidates.sort("as_of").join_asof(
        pl.concat(activity).sort("occurred_at"),
        left_on="as_of",
        right_on="occurred_at",
        by="case_id",
        strategy="backward",
        check_sortedness=False,
    )
    lookback = dt.timedelta(days=POPULATION_LOOKBACK_DAYS)
    return (
        last.filter(pl.col("occurred_at") >= pl.col("as_of") - lookback)
        .sort("as_of", "_order")
        .select("case_id", "as_of")
    )


def _population_at(
    cases: pl.DataFrame, contacts: pl.DataFrame, actions: pl.DataFrame | None, as_of: dt.datetime
) -> pl.DataFrame:
    """The same rule as ``scoring_populations`` for one moment, without the as-of join."""
    since = as_of - dt.timedelta(days=POPULATION_LOOKBACK_DAYS)
    tables = [contacts] if actions is None else [contacts, actions]
    active = pl.concat(
        [
            t.lazy().filter(pl.col("occurred_at").is_between(since, as_of)).select("case_id")
            for t in tables
        ]
    ).unique()
    population = (
        cases.lazy()
        .filter(pl.col("registered_at") <= as_of)
        .join(active, on="case_id", how="semi", maintain_order="left")
    )
    if actions is not None:
        terminated = actions.lazy().filter(
            (pl.col("action_type").cast(pl.String) == "terminated")
            & (pl.col("occurred_at") <= as_of)
        )
        population = population.join(terminated, on="case_id", how="anti", maintain_order="left")
    return population.select(
        "case_id", pl.lit(as_of, dtype=pl.Datetime("us")).alias("as_of")
    ).collect()


def label_pairs(
    pairs: pl.DataFrame,
    contacts: pl.DataFrame,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    group_threshold: int = GROUP_THRESHOLD,
) -> pl.DataFrame:
    """``label_targets`` for many (case_id, as_of) pairs at once, in the order of ``pairs``."""
    horizon = dt.timedelta(days=horizon_days)
    ranked = contacts.select(
        "case_id", "occurred_at", _level_rank().alias("rank"), "group_size"
    ).join(pairs.select("case_id", "as_of"), on="case_id")
    reached = (
        ranked.filter(pl.col("occurred_at") <= pl.col("as_of"))
        .group_by("case_id", "as_of")
        .agg(pl.col("rank").max().alias("reached"))
    )
    ahead = (
        ranked.filter(
            (pl.col("occurred_at") > pl.col("as_of"))
            & (pl.col("occurred_at") <= pl.col("as_of") + horizon)
        )
        .group_by("case_id", "as_of")
        .agg(
            pl.col("rank").max().alias("highest_ahead"),
            pl.col("group_size").max().alias("largest_ahead"),
        )
    )
    keys = ["case_id", "as_of"]
    return (
        pairs.select(keys)
        .join(reached, on=keys, how="left", maintain_order="left")
        .join(ahead, on=keys, how="left", maintain_order="left")
        .select(
            *keys,
            (
                pl.col("highest_ahead").fill_null(-1) > pl.col("reached").fill_null(_COUNTY_RANK)
            ).alias("escalation"),
            (pl.col("largest_ahead").fill_null(0) >= group_threshold).alias("collective"),
        )
    )


def label_targets(
    population: pl.DataFrame,
    contacts: pl.DataFrame,
    as_of: dt.datetime,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    group_threshold: int = GROUP_THRESHOLD,
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
        population.join(reached, on="case_id", how="left", maintain_order="left")
        .join(ahead, on="case_id", how="left", maintain_order="left")
        .select(
            "case_id",
            (
                pl.col("highest_ahead").fill_null(-1) > pl.col("reached").fill_null(_COUNTY_RANK)
            ).alias("escalation"),
            (pl.col("largest_ahead").fill_null(0) >= group_threshold).alias("collective"),
        )
    )
