"""Point-in-time features for (case, as-of) pairs: the batch path and the shared assembly.

``assemble`` is the one place where the families come together; the batch path
feeds it every case of the scoring population at one or many moments, the
online path (``online.py``) the rows of a single posted case.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from earlywarn.contract.loader import Dataset
from earlywarn.features.catalogue import CASE_STATE, FEATURE_NAMES
from earlywarn.features.context import OWN, ContextIndex, context_features
from earlywarn.features.events import (
    CONTACT_FEATURES,
    CONTACTS_SINCE,
    KEYS,
    SMALL_ASK,
    aggregate_contacts,
)
from earlywarn.features.handling import (
    ACTION_FEATURES,
    ACTION_HELPERS,
    aggregate_actions,
    contacts_since,
    derived_handling,
    handling_unit,
)
from earlywarn.features.labels import scoring_populations
from earlywarn.features.sensitive import CalendarIndex, calendar_features

logger = logging.getLogger(__name__)

STATIC = [
    "petitioner_id",
    "registered_at",
    "county_code",
    "township_code",
    "category",
    "nature",
    "responsible_unit",
]
CONTACT_COLUMNS = ["case_id", "occurred_at", "level", "channel", "group_size"]
ACTION_COLUMNS = ["case_id", "occurred_at", "action_type", "unit", "outcome"]
# With no contact (or no step) up to t, counts are 0; times and levels stay missing.
_CONTACT_ZEROS = [
    n
    for n in CONTACT_FEATURES
    if not n.startswith(("days_since", "max_", "last_", "level_headroom"))
]
_ACTION_ZEROS = [n for n in ACTION_FEATURES if not n.startswith("days_since")]
_HANDLING_DERIVED = [
    "acceptance_overdue_days", "answer_overdue_days", "answer_pending", "answer_waiting_days"
]  # fmt: skip
_OWN = list(OWN)


@dataclass
class Sources:
    """What features are computed from, besides the case's own rows."""

    context: ContextIndex
    calendar: CalendarIndex


def rows_up_to(events: pl.DataFrame, pairs: pl.DataFrame, columns: list[str]) -> pl.LazyFrame:
    """Each event copied to every pair of its case whose as-of it does not pass: each
    pair's rows together and in time order, as the aggregations need them."""
    chosen = events.lazy().select(columns)
    if pairs.height * SMALL_ASK < events.height:  # a few cases: sort only their rows
        chosen = chosen.join(pairs.lazy().select("case_id").unique(), on="case_id", how="semi")
    return (
        pairs.lazy()
        .select(KEYS)
        .join(
            chosen.sort("occurred_at", maintain_order=True),
            on="case_id",
            how="inner",
            maintain_order="left_right",
        )
        .filter(pl.col("occurred_at") <= pl.col("as_of"))
    )


def case_part(
    pairs: pl.DataFrame,
    contacts: pl.DataFrame,
    actions: pl.DataFrame | None,
    calendar: CalendarIndex,
) -> pl.DataFrame:
    """Every feature read from the case's own rows and the calendar, for ``pairs`` (case_id,
    as_of and the case's static columns, kept): all but the context features. Needs
    only the rows of these cases."""
    contact_rows = rows_up_to(contacts, pairs, CONTACT_COLUMNS)
    wide = pairs.lazy()
    if actions is not None:
        action_part = aggregate_actions(rows_up_to(actions, pairs, ACTION_COLUMNS))
        # Contacts after the latest answer and closure are counted with the others.
        moments = action_part.select(*KEYS, *CONTACTS_SINCE.values())
        contact_rows = contact_rows.join(moments, on=KEYS, how="left", maintain_order="left")
    else:  # no handling history: its features are missing, not zero
        missing_moment = pl.lit(None, dtype=contacts.schema["occurred_at"])
        contact_rows = contact_rows.with_columns(
            missing_moment.alias(moment) for moment in CONTACTS_SINCE.values()
        )
    wide = wide.join(
        aggregate_contacts(contact_rows), on=KEYS, how="left", maintain_order="left"
    ).with_columns(pl.col(_CONTACT_ZEROS).fill_null(0))
    if actions is not None:
        wide = (
            wide.join(action_part, on=KEYS, how="left", maintain_order="left")
            .with_columns(pl.col(_ACTION_ZEROS).fill_null(0))
            .with_columns(derived_handling())
        )
    else:
        wide = wide.with_columns(
            *[
                pl.lit(None, dtype=pl.Float64).alias(n)
                for n in [*ACTION_FEATURES, *_HANDLING_DERIVED]
            ],
            *[missing_moment.alias(n) for n in ACTION_HELPERS if n != "_last_unit"],
            pl.lit(None, dtype=pl.String).alias("_last_unit"),
        ).with_columns(derived_handling()[0])
    collected = wide.with_columns(handling_unit(), *contacts_since()).collect()
    return collected.drop(
        *ACTION_HELPERS, *(f"_{name}" for name in CONTACTS_SINCE), strict=False
    ).join(calendar_features(collected, calendar), on=KEYS, how="left", maintain_order="left")


def in_catalogue_order(own: pl.DataFrame, context: pl.DataFrame) -> pl.DataFrame:
    """The case part and the context features as the catalogue lists them, then the
    case-state columns."""
    return own.join(context, on=KEYS, how="left", maintain_order="left").select(
        *KEYS, *FEATURE_NAMES, *CASE_STATE
    )


def assemble(
    pairs: pl.DataFrame, contacts: pl.DataFrame, actions: pl.DataFrame | None, sources: Sources
) -> pl.DataFrame:
    """Every catalogued feature for ``pairs`` (case_id, as_of and the case's static columns),
    then the case-state columns."""
    own = case_part(pairs, contacts, actions, sources.calendar)
    context = context_features(own, own.select(*KEYS, *_OWN), sources.context)
    return in_catalogue_order(own, context)


def sources_for(dataset: Dataset, first: dt.datetime, last: dt.datetime) -> Sources:
    """Context and calendar indexes of a dataset, covering as-of moments from first to last."""
    return Sources(
        context=ContextIndex.build(dataset.cases, dataset.contacts, dataset.actions),
        calendar=CalendarIndex.build(first.date(), last.date(), dataset.calendar),
    )


def build_features(
    dataset: Dataset,
    as_ofs: Sequence[dt.datetime],
    pairs: pl.DataFrame | None = None,
    sources: Sources | None = None,
) -> pl.DataFrame:
    """Features of the scoring population at each moment of ``as_ofs`` (or of the given pairs).

    One as-of is the daily list; many are training snapshots. Rows: case_id,
    as_of, the catalogue's features in order, then the case-state columns.
    """
    if pairs is None:
        pairs = scoring_populations(dataset.cases, dataset.contacts, dataset.actions, as_ofs)
    logger.info(
        "features for %d (case, as-of) pairs over %d moments", pairs.height, len(set(as_ofs))
    )
    if sources is None:
        sources = sources_for(dataset, min(as_ofs), max(as_ofs))
    with_static = pairs.select(KEYS).join(
        dataset.cases.select("case_id", *STATIC), on="case_id", how="left", maintain_order="left"
    )
    return assemble(with_static, dataset.contacts, dataset.actions, sources)
