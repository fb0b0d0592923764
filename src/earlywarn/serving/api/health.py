"""Health and metrics: ``/live``, ``/ready`` and ``/metrics`` for the operator's probes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from earlywarn.serving.deps import Db, ScorerDep
from earlywarn.serving.monitor.checks import STATUSES
from earlywarn.serving.monitor.store import latest_judged
from earlywarn.serving.store import DailyRun, store_cause
from earlywarn.serving.store_open import is_store_fault

router = APIRouter(tags=["health"])


class ServiceMetrics:
    """The Prometheus series of one application (its own registry, so apps never clash)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "earlywarn_requests",
            "requests by route and status",
            ["route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "earlywarn_request_seconds",
            "request latency by route",
            ["route"],
            registry=self.registry,
        )
        self.scores = Histogram(
            "earlywarn_score_probability",
            "scored probabilities",
            ["target"],
            registry=self.registry,
            buckets=(0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0),
        )
        self.versions = Gauge(
            "earlywarn_model_info",
            "serving model versions",
            ["target", "version"],
            registry=self.registry,
        )
        self.refused = Gauge(
            "earlywarn_model_refused",
            "the last model version refused per target (1), with the old one still serving",
            ["target", "version"],
            registry=self.registry,
        )
        self.refusals = Gauge(
            "earlywarn_model_refusals",
            "model versions refused since the service started",
            registry=self.registry,
        )
        self.monitor = Gauge(
            "earlywarn_monitor_status",
            "the latest monitored day's judged checks: 0 ok, 1 warn, 2 alert",
            ["check", "subject"],
            registry=self.registry,
        )
        self.monitor_day = Gauge(
            "earlywarn_monitor_day_timestamp",
            "the latest monitored day (its start, seconds since the epoch)",
            registry=self.registry,
        )
        self.context_files = Gauge(
            "earlywarn_context_files_timestamp",
            "when the dataset files the service scores against were last changed (seconds "
            "since the epoch; 0 before they are read): alert when older than a night",
            registry=self.registry,
        )
        self.store_up = Gauge(
            "earlywarn_store_up",
            "1 while the store answers, 0 when it did not for this scrape (the store's "
            "series are then left as last read)",
            registry=self.registry,
        )
        self.last_run = Gauge(
            "earlywarn_daily_run_outcome",
            "the newest daily run's outcome (1 on its outcome: ok, failed, interrupted, "
            "running); none before the first run",
            ["outcome"],
            registry=self.registry,
        )
        self.last_ok_run = Gauge(
            "earlywarn_daily_run_last_ok_timestamp",
            "when the newest daily run that ended ok finished (seconds since the epoch; 0 "
            "before one did): alert when older than a night and a half",
            registry=self.registry,
        )


DAILY_OUTCOMES = ("ok", "failed", "interrupted", "running")


def _daily_runs(db: Session) -> tuple[str | None, float]:
    """The newest run's outcome, and when the newest ok run finished (0 if none): what an
    operator's alert needs, beside ``earlywarn runs``."""
    newest = db.scalars(select(DailyRun.outcome).order_by(DailyRun.id.desc()).limit(1)).first()
    finished = db.scalars(
        select(DailyRun.finished_at)
        .where(DailyRun.outcome == "ok")
        .order_by(DailyRun.id.desc())
        .limit(1)
    ).first()
    # Stored naive in UTC (store.utc_now).
    return newest, finished.replace(tzinfo=dt.UTC).timestamp() if finished else 0.0


@router.get("/live")
def live() -> dict[str, str]:
    """Always 200 while the process runs."""
    return {"status": "alive"}


@router.get(
    "/ready", responses={503: {"description": "models not loaded yet, or the store unavailable"}}
)
def ready(scorer: ScorerDep, db: Db) -> dict[str, Any]:
    """200 once the champion models are loaded and a warm-up score succeeded, and while
    the store answers (every score writes an audit record: without the store none can be
    served); names any version refused since (the previous model keeps serving), and
    when the context was read and how new its files were (the service reads them again
    when they change)."""
    if not scorer.ready:
        raise HTTPException(503, "models are loading")
    try:
        db.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        if not is_store_fault(error):
            raise
        raise HTTPException(503, f"the store is unavailable: {store_cause(error)}") from None
    return {
        "status": "ready",
        "models": scorer.versions,
        "refused": scorer.refusals,
        "context": scorer.sources_read,
    }


@router.get("/metrics", response_class=Response)
def prometheus(request: Request, scorer: ScorerDep, db: Db) -> Response:
    """Prometheus metrics: requests, latencies, scores, model versions, monitoring, the
    nightly runs."""
    metrics: ServiceMetrics = request.app.state.metrics
    metrics.versions.clear()
    for target, version in scorer.versions.items():
        metrics.versions.labels(target, version).set(1)
    metrics.refused.clear()
    for target, refusal in scorer.refusals.items():
        metrics.refused.labels(target, str(refusal.get("version"))).set(1)
    metrics.refusals.set(scorer.refusal_count)
    metrics.context_files.set(scorer.context_modified)
    try:
        _store_gauges(metrics, db)
        metrics.store_up.set(1)
    except SQLAlchemyError as error:
        # The process's own series still answer, and the store's absence is a series
        # an alert can fire on (the whole page was a 503 while the store was down).
        if not is_store_fault(error):
            raise
        metrics.store_up.set(0)
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _store_gauges(metrics: ServiceMetrics, db: Session) -> None:
    """The series read from the store: monitoring and the nightly runs."""
    day, checks = latest_judged(db)
    newest, last_ok = _daily_runs(db)
    metrics.monitor.clear()
    for check, subject, status in checks:
        metrics.monitor.labels(check, subject).set(STATUSES.index(status))
    metrics.monitor_day.set(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp() if day else 0)
    metrics.last_run.clear()
    if newest is not None:
        for outcome in DAILY_OUTCOMES:
            metrics.last_run.labels(outcome).set(int(outcome == newest))
    metrics.last_ok_run.set(last_ok)
