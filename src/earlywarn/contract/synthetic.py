"""Random datasets that satisfy the contract, at any size, for load tests and benchmarks.

These rows have the contract's shape and nothing of a petition office's
behaviour: use the simulator for anything that learns or measures risk.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from earlywarn.contract.spec import ACTION_OUTCOMES, CATEGORIES, CHANNELS, LEVELS, NATURES

_START = np.datetime64("2023-01-01T00:00:00", "s")


def random_dataset(
    n_cases: int,
    contacts_per_case: float = 10.0,
    actions_per_case: float = 6.0,
    seed: int = 0,
    span_days: int = 3 * 365,
) -> dict[str, pl.DataFrame]:
    """Tables ``cases``, ``contacts`` and ``actions`` with random valid values,
    registrations spread over ``span_days`` from 2023-01-01."""
    rng = np.random.default_rng(seed)
    case_ids = pseudonyms("C", np.arange(n_cases), 9)
    span_seconds = span_days * 24 * 3600
    registered = (_START + rng.integers(0, span_seconds, n_cases).astype("timedelta64[s]")).astype(
        "datetime64[us]"
    )
    counties = rng.integers(0, 12, n_cases)
    cases = pl.DataFrame(
        {
            "case_id": case_ids,
            "petitioner_id": pseudonyms("P", rng.integers(0, max(1, n_cases * 4 // 5), n_cases), 9),
            "registered_at": pl.Series(registered),
            "county_code": pseudonyms("CTY", counties, 2),
            "township_code": pseudonyms("TWN", counties * 20 + rng.integers(0, 20, n_cases), 3),
            "category": rng.choice(np.array(CATEGORIES), n_cases),
            "nature": rng.choice(np.array(NATURES), n_cases, p=[0.6, 0.3, 0.05, 0.05]),
            "responsible_unit": pseudonyms("U", rng.integers(0, 300, n_cases), 3),
            "summary": pl.Series(["反映问题，请求解决。"] * n_cases),
        }
    )
    contacts = _events(rng, case_ids, registered, contacts_per_case, "K")
    n_contacts = contacts.height
    contacts = contacts.with_columns(
        channel=pl.Series(rng.choice(np.array(CHANNELS), n_contacts)),
        level=pl.Series(
            rng.choice(np.array(LEVELS), n_contacts, p=[0.05, 0.3, 0.45, 0.12, 0.06, 0.02])
        ),
        group_size=pl.Series(np.maximum(1, rng.geometric(0.45, n_contacts)), dtype=pl.Int32),
    ).rename({"event_id": "contact_id"})
    actions = _events(rng, case_ids, registered, actions_per_case, "A")
    types = rng.choice(np.array(list(ACTION_OUTCOMES)), actions.height)
    outcomes = np.full(actions.height, None, dtype=object)
    for action_type, choices in ACTION_OUTCOMES.items():
        of_type = types == action_type
        if choices:
            outcomes[of_type] = rng.choice(np.array(choices), int(of_type.sum()))
    actions = actions.with_columns(
        action_type=pl.Series(types),
        unit=pseudonyms("U", rng.integers(0, 300, actions.height), 3),
        outcome=pl.Series(outcomes.tolist(), dtype=pl.String),
    ).rename({"event_id": "action_id"})
    return {"cases": cases, "contacts": contacts, "actions": actions}


def _events(
    rng: np.random.Generator, case_ids: pl.Series, registered: np.ndarray, mean: float, prefix: str
) -> pl.DataFrame:
    counts = rng.poisson(max(mean - 1, 0), case_ids.len()) + 1
    owner = np.repeat(np.arange(case_ids.len()), counts)
    delay = (
        rng.exponential(60 * 24 * 3600, owner.size)
        .astype("timedelta64[s]")
        .astype("timedelta64[us]")
    )
    return pl.DataFrame(
        {
            "event_id": pseudonyms(prefix, np.arange(owner.size), 10),
            "case_id": case_ids.gather(owner),
            "occurred_at": pl.Series(registered[owner] + delay),
        }
    )


def pseudonyms(prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    """Opaque identifiers such as ``C000000042``: a prefix and a zero-padded number."""
    digits = pl.Series(numbers).cast(pl.String).str.zfill(width)
    return pl.select(pl.lit(prefix) + pl.lit(digits)).to_series()


def write_dataset(
    tables: dict[str, pl.DataFrame], directory: Path, file_format: str = "parquet"
) -> None:
    """Write the tables as ``<name>.parquet`` or ``<name>.csv`` (ISO 8601 times)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if file_format == "parquet":
            frame.write_parquet(directory / f"{name}.parquet")
        else:
            frame.write_csv(directory / f"{name}.csv", datetime_format="%Y-%m-%dT%H:%M:%S")
