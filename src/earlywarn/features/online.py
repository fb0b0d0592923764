"""The online path: the features of one posted case, with the batch path's own code.

A case-management system posts a case with its contacts and handling steps; the
service keeps the context (other cases of the petitioner, group visits nearby,
the units' records) and the calendar from the latest batch run. The rows are
passed through ``assemble`` exactly as the batch path passes a million.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from earlywarn.features.build import STATIC, Sources, assemble


def online_features(
    case: pl.DataFrame,
    contacts: pl.DataFrame,
    actions: pl.DataFrame | None,
    as_of: dt.datetime,
    sources: Sources,
) -> pl.DataFrame:
    """One row of features for ``case`` (one row of the cases table) at ``as_of``.

    ``contacts`` and ``actions`` are the case's rows, typed as the loader types
    them; rows after ``as_of`` are ignored. Context keys absent from the sources
    read as no history.
    """
    if case.height != 1:
        raise ValueError(f"one case expected, got {case.height} rows")
    row = case.row(0, named=True)
    context = sources.context.slice(
        [row["petitioner_id"]],
        [row["township_code"]],
        [row["county_code"]],
        [row["responsible_unit"]],
    )
    pairs = case.select("case_id", pl.lit(as_of, dtype=pl.Datetime("us")).alias("as_of"), *STATIC)
    return assemble(pairs, contacts, actions, Sources(context, sources.calendar))
