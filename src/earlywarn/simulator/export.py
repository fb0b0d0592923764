"""Write a simulated history as a dataset directory, with the oracle's truth if asked."""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from earlywarn.contract.rules import DEFAULT_HORIZON_DAYS
from earlywarn.contract.spec import CONTRACT_VERSION
from earlywarn.features.labels import label_targets, scoring_population
from earlywarn.simulator.family import describe
from earlywarn.simulator.office_files import FORMATS as OFFICE_FORMATS
from earlywarn.simulator.office_files import write_office_export
from earlywarn.simulator.oracle import OracleSettings, estimate_truth
from earlywarn.simulator.run import Progress, SimulationConfig, SimulationResult, simulate

logger = logging.getLogger(__name__)

TRUTH_FILE = "truth"
MANIFEST_FILE = "simulation.json"


def simulate_to_directory(
    config: SimulationConfig,
    out: Path,
    file_format: str = "parquet",
    truth_as_of: dt.date | None = None,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Simulate, write ``cases``, ``contacts``, ``actions``, ``calendar.yaml`` and
    ``simulation.json`` to ``out``; with ``truth_as_of``, also ``truth.<format>``.

    Returns the manifest (also written): the config, the row counts, the truth summary.
    """
    last_as_of = config.end - dt.timedelta(days=horizon_days)
    if truth_as_of is not None and not config.start < truth_as_of <= last_as_of:
        raise ValueError(
            f"--truth {truth_as_of} must fall after the start and at least {horizon_days} days "
            f"before the end ({config.end}), so that the realised labels are complete"
        )
    result = simulate(config, truth_as_of, progress)
    out.mkdir(parents=True, exist_ok=True)
    if file_format in OFFICE_FORMATS:  # an office's own export, for `earlywarn import`
        write_office_export(result.tables, out, file_format)
        file_format = "csv"  # the truth file, which no office has
    else:
        for name, frame in result.tables.items():
            _write(frame, out / f"{name}.{file_format}", file_format)
    (out / "calendar.yaml").write_text(
        yaml.safe_dump(result.calendar, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    manifest: dict[str, Any] = {
        "generator": "earlywarn simulate",
        "contract_version": CONTRACT_VERSION,
        "config": {k: str(v) if isinstance(v, dt.date) else v for k, v in asdict(config).items()},
        "rows": {name: frame.height for name, frame in result.tables.items()},
    }
    if config.family_seed is not None:  # which member of the family, in numbers
        manifest["world"] = describe(result.world)
    if truth_as_of is not None:
        truth = oracle_truth(result, truth_as_of, horizon_days, config.seed)
        _write(truth, out / f"{TRUTH_FILE}.{file_format}", file_format)
        manifest["truth"] = {
            "as_of": dt.datetime.combine(truth_as_of, dt.time()).isoformat(),
            "horizon_days": horizon_days,
            "population": truth.height,
            "max_standard_error": float(
                truth.select(pl.max_horizontal("escalation_se", "collective_se").max()).item()
                or 0.0
            ),
            "mean_escalation_probability": truth.select(
                pl.col("escalation_probability").mean()
            ).item(),
            "mean_collective_probability": truth.select(
                pl.col("collective_probability").mean()
            ).item(),
        }
    (out / MANIFEST_FILE).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8"
    )
    return manifest


def oracle_truth(
    result: SimulationResult, as_of_day: dt.date, horizon_days: int, seed: int
) -> pl.DataFrame:
    """Oracle probabilities and realised labels of the scoring population at 00:00 that day."""
    if result.snapshot is None:
        raise ValueError("the simulation kept no state to roll out from")
    as_of = dt.datetime.combine(as_of_day, dt.time())
    tables = result.tables
    population = scoring_population(tables["cases"], tables["contacts"], tables["actions"], as_of)
    numbers = population["case_id"].str.slice(1).cast(pl.Int64).to_numpy()
    settings = OracleSettings(horizon_days=horizon_days)
    truth = estimate_truth(result.snapshot, numbers, result.world, result.timeline, seed, settings)
    estimated = pl.DataFrame(
        {
            "case_number": truth.case_number,
            "rollouts": truth.rollouts,
            "escalation_probability": truth.probability(truth.escalation_hits),
            "collective_probability": truth.probability(truth.collective_hits),
            "escalation_se": truth.standard_error(truth.escalation_hits),
            "collective_se": truth.standard_error(truth.collective_hits),
        }
    )
    missing = len(numbers) - truth.case_number.size
    if missing:  # a bug of ours: every case of the population must be live in the state
        raise AssertionError(f"{missing} population cases are not in the simulation state")
    labels = label_targets(population, tables["contacts"], as_of, horizon_days)
    return (
        labels.with_columns(pl.col("case_id").str.slice(1).cast(pl.Int64).alias("case_number"))
        .join(estimated, on="case_number", how="left")
        .select(
            "case_id",
            pl.lit(as_of).alias("as_of"),
            "escalation_probability",
            "collective_probability",
            "escalation_se",
            "collective_se",
            "rollouts",
            pl.col("escalation").alias("escalation_label"),
            pl.col("collective").alias("collective_label"),
        )
    )


def _write(frame: pl.DataFrame, path: Path, file_format: str) -> None:
    if file_format == "parquet":
        frame.write_parquet(path)
    elif file_format == "csv":
        frame.write_csv(path, datetime_format="%Y-%m-%dT%H:%M:%S")
    else:
        raise ValueError(f"unknown format {file_format!r}: parquet or csv")
