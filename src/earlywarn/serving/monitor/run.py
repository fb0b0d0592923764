"""A day's monitoring: run every check, store them (replacing the day's), audit the run.

``earlywarn monitor`` runs it alone; the daily list job can hand over the features
it already computed, so that monitoring costs one more pass over them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import polars as pl
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.contract import Dataset
from earlywarn.contract.rules import TARGETS, end_of_day
from earlywarn.features.build import build_features
from earlywarn.models.registry import LoadedModels
from earlywarn.serving.audit import audit, audit_key
from earlywarn.serving.monitor.checks import Check, worst
from earlywarn.serving.monitor.drift import (
    SCORE_HISTORY_DAYS,
    flag_share_against_backtest,
    input_drift,
    score_drift,
    score_measures,
)
from earlywarn.serving.monitor.quality import data_quality, expected_precision, matured_performance
from earlywarn.serving.store import MonitorCheck
from earlywarn.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MonitorResult:
    day: dt.date
    status: str  # the worst of the model's and the data's checks (not the backlog's)
    checks: list[Check]

    def needing_attention(self) -> list[Check]:
        return [c for c in self.checks if c.status != "ok"]


def _earlier_measures(session: Session, day: dt.date) -> dict[tuple[str, str], list[float]]:
    rows = session.execute(
        select(MonitorCheck.check, MonitorCheck.subject, MonitorCheck.value).where(
            MonitorCheck.day < day,
            MonitorCheck.day >= day - dt.timedelta(days=SCORE_HISTORY_DAYS),
            MonitorCheck.check.in_(("share_flagged", "mean_probability")),
            MonitorCheck.value.is_not(None),
        )
    ).all()
    earlier: dict[tuple[str, str], list[float]] = defaultdict(list)
    for check, subject, value in rows:
        if value is not None:
            earlier[(check, subject)].append(float(value))
    return earlier


def store_checks(session: Session, day: dt.date, checks: list[Check], versions: str) -> None:
    """A day's checks in place of the ones stored for it before."""
    rows = [
        {"day": day, "check": c.check, "subject": c.subject[:128], "value": c.value,
         "status": c.status, "detail": json.dumps(c.detail, ensure_ascii=False),
         "model_versions": versions}
        for c in checks
    ]  # fmt: skip
    session.execute(delete(MonitorCheck).where(MonitorCheck.day == day))
    if rows:
        session.execute(insert(MonitorCheck), rows)


def monitor_day(
    settings: Settings,
    dataset: Dataset,
    day: dt.date,
    sessions: sessionmaker[Session],
    models: LoadedModels,
    features: pl.DataFrame | None = None,
    probability: dict[str, np.ndarray] | None = None,
) -> MonitorResult:
    """Every check of ``day`` (as of its end), stored in place of the day's earlier run.

    The list job hands over the day's features and the probabilities it scored with
    the same models, so that monitoring adds no second pass over either."""
    as_of = end_of_day(day)
    if features is None:
        features = build_features(dataset, [as_of])
    if probability is None:
        probability = {t: models.models[t].probability(features) for t in TARGETS}
    flagged = {t: models.models[t].bands(probability[t]) == "high" for t in TARGETS}
    with sessions() as session:
        earlier = _earlier_measures(session, day)
        matured = matured_performance(session, dataset, as_of)
    if features.height:
        measures = score_measures(probability, flagged)
        scored = [
            *input_drift(models, features),
            *measures,
            *score_drift(measures, earlier),
            *flag_share_against_backtest(models, flagged),
            *expected_precision(probability, flagged),
        ]
    else:  # no open case at the day's end: a date before the data, or an empty export
        scored = [Check("scoring_population", "cases", 0.0, "alert", {"open_cases": 0})]
    checks = [*scored, *data_quality(dataset, as_of), *matured]
    status = worst([c.status for c in checks if c.kind != "backlog"])  # backlog: shown apart
    with sessions.begin() as session:
        store_checks(session, day, checks, models.version_text)
        audit(session, audit_key(settings, session), "monitor job", "monitor.run", day.isoformat(),
              len(checks), status)  # fmt: skip
    logger.info("monitoring %s: %s (%d checks, %d not ok)", day, status, len(checks),
                sum(c.status != "ok" for c in checks))  # fmt: skip
    return MonitorResult(day, status, checks)
