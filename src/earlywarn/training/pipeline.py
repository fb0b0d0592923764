"""``earlywarn train``: snapshots, time split, one model per target, baselines, report, registry."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import mlflow
import numpy as np
import polars as pl
from sklearn.metrics import roc_auc_score

from earlywarn.contract.loader import Dataset
from earlywarn.contract.rules import TARGETS
from earlywarn.contract.spec import CONTRACT_VERSION
from earlywarn.features.build import build_features
from earlywarn.models import registry as models_registry
from earlywarn.models.artifact import RiskModel, vocabularies
from earlywarn.settings import Settings
from earlywarn.training import registry
from earlywarn.training.baselines import baseline_scores
from earlywarn.training.fit import fit_target, tune
from earlywarn.training.metrics import (
    Capacity,
    bias_audit,
    calibration_curve,
    per_group,
    score_metrics,
    top_k_flags,
)
from earlywarn.training.report import TargetReport, write_report
from earlywarn.training.snapshots import (
    SnapshotSettings,
    Split,
    build_snapshots,
    time_split,
    without_treated,
)

logger = logging.getLogger(__name__)
LEARNING_SHARES = (0.25, 0.5, 1.0)
LIMITS = (
    "Trained on the office's own history; its figures hold for similar periods. Scores cases, "
    "never people; no sensitive personal attribute is used. Review the bias audit before use. "
    "Probabilities are never 0 or 1: each isotonic calibration block's rate k/n is given as "
    "(k + 1) / (n + 2), so a small block at either end says less than certainty."
)
INTENDED_USE = (
    "Prioritise petition cases for early resolution by the office (事要解决、就地化解). "
    "Advice to a person who decides, with reasons; not for decisions about people."
)


@dataclass
class TrainResult:
    versions: dict[str, str]
    metrics: dict[str, dict[str, float]]
    report: Path
    phases: dict[str, float] = field(default_factory=dict)
    run_id: str = ""


@contextmanager
def _phase(phases: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    phases[name] = phases.get(name, 0.0) + time.perf_counter() - started
    logger.info("phase %s: %.1f s", name, phases[name])


def _importance(model: RiskModel, frame: pl.DataFrame, rows: int = 2000) -> list[tuple[str, float]]:
    sample = frame.sample(n=min(rows, frame.height), seed=0)
    mean_abs = np.abs(model.contributions(sample)[:, :-1]).mean(axis=0)
    order = np.argsort(-mean_abs)
    return [(model.feature_names[i], float(mean_abs[i])) for i in order]


def _oracle(dataset: Dataset, model: RiskModel, truth: pl.DataFrame) -> dict[str, float]:
    """Model and oracle ROC-AUC on the truth's cases and realised labels, at the truth's moment."""
    as_of = truth["as_of"][0]
    features = build_features(dataset, [as_of]).join(
        truth.select("case_id"), on="case_id", how="semi"
    )
    joined = features.join(truth, on="case_id")
    labels = joined[f"{model.target}_label"].cast(pl.Int8).to_numpy()
    if not 0 < labels.sum() < labels.size:
        return {}
    ours = roc_auc_score(labels, model.probability(joined))
    best = roc_auc_score(labels, joined[f"{model.target}_probability"].to_numpy())
    return {
        "as_of": float(as_of.timestamp()),
        "cases": float(labels.size),
        "model_roc_auc": ours,
        "oracle_roc_auc": best,
        "ratio": ours / best,
    }


def _evaluate(
    split: Split,
    target: str,
    model: RiskModel,
    capacity: Capacity,
    truth: pl.DataFrame | None,
    dataset: Dataset,
) -> TargetReport:
    backtest = split.backtest.with_columns(pl.Series("model", model.probability(split.backtest)))
    scores = {"model": backtest["model"].to_numpy()} | baseline_scores(
        split.fit, split.backtest, target, model.feature_names, model.vocab
    )
    metrics = {}
    for name, score in scores.items():
        metrics[name] = score_metrics(
            backtest.with_columns(pl.Series("s", score)), target, "s", capacity
        )
    flagged = backtest.with_columns(pl.Series("flag", top_k_flags(backtest, "model", capacity)))
    curve = []
    moments = split.fit["as_of"].unique().sort()
    for share in LEARNING_SHARES:  # the most recent share of the fit period
        since = moments[int((1 - share) * (moments.len() - 1))]
        part = split.fit.filter(pl.col("as_of") >= since)
        smaller = fit_target(part, split.validation, target, capacity) if share < 1 else model
        figures = score_metrics(
            backtest.with_columns(pl.Series("s", smaller.probability(backtest))),
            target,
            "s",
            capacity,
        )
        curve.append(
            {
                "share": share,
                "fit_rows": part.height,
                "roc_auc": figures.get("roc_auc"),
                "pr_auc": figures.get("pr_auc"),
            }
        )
    return TargetReport(
        target=target,
        labels=backtest[target].cast(pl.Int8).to_numpy(),
        scores=scores,
        metrics=metrics,
        calibration=calibration_curve(
            backtest[target].cast(pl.Int8).to_numpy(), backtest["model"].to_numpy()
        ),
        stability=per_group(backtest, "as_of", target, "model", capacity),
        slices={
            by: per_group(backtest, by, target, "model", capacity)
            for by in ("category", "county_code")
        },
        bias={by: bias_audit(flagged, by, target, "flag") for by in ("county_code", "category")},
        importance=_importance(model, split.backtest),
        learning_curve=pl.DataFrame(curve),
        oracle=_oracle(dataset, model, truth) if truth is not None else {},
    )


def train(
    dataset: Dataset,
    until: dt.datetime,
    settings: Settings,
    targets: tuple[str, ...] = TARGETS,
    snapshot_settings: SnapshotSettings | None = None,
    tune_trials: int = 0,
    truth: pl.DataFrame | None = None,
    treated: pl.DataFrame | None = None,
) -> TrainResult:
    """Train, backtest and register each target's model. ``treated`` (case_id,
    acted_at: the office's actions on listed cases) leaves out the snapshot rows
    whose outcome an action touched."""
    snapshot_settings = snapshot_settings or SnapshotSettings()
    capacity = Capacity(settings.capacity_share, settings.capacity_minimum)
    phases: dict[str, float] = {}
    with _phase(phases, "snapshots"):
        built = build_snapshots(dataset, until, snapshot_settings)
        snapshots = without_treated(built, treated, snapshot_settings.horizon_days)
        split = time_split(snapshots, snapshot_settings)
    client = models_registry.connect(settings)
    reports, versions, all_metrics = [], {}, {}
    window = split.windows()
    run_name = f"train-{dt.datetime.now():%Y%m%d-%H%M%S}"
    report_dir = settings.reports_dir / run_name
    with mlflow.start_run(run_name=run_name) as run:
        mlflow.log_params(
            {
                "until": until.isoformat(),
                "targets": ",".join(targets),
                "tune_trials": tune_trials,
                "capacity_share": capacity.share,
                "capacity_minimum": capacity.minimum,
                **{f"snapshot_{k}": v for k, v in asdict(snapshot_settings).items()},
                **{f"window_{k}": v for k, v in window.items()},
                "rows_fit": split.fit.height,
                "rows_left_out_treated": built.height - snapshots.height,
                "rows_validation": split.validation.height,
                "rows_backtest": split.backtest.height,
            }
        )
        for target in targets:
            with _phase(phases, f"fit_{target}"):
                vocab = vocabularies(split.fit["county_code"].drop_nulls().unique().to_list())
                params = (
                    tune(split.fit, split.validation, target, vocab, tune_trials)
                    if tune_trials
                    else {}
                )
                meta = {
                    "horizon_days": snapshot_settings.horizon_days,
                    "group_threshold": snapshot_settings.group_threshold,
                    "windows": window,
                    "contract_version": CONTRACT_VERSION,
                }
                model = fit_target(split.fit, split.validation, target, capacity, params, meta)
            with _phase(phases, f"evaluate_{target}"):
                report = _evaluate(split, target, model, capacity, truth, dataset)
            reports.append(report)
            figures = report.metrics["model"]
            all_metrics[target] = figures
            mlflow.log_metrics({f"{target}_{k}": v for k, v in figures.items() if np.isfinite(v)})
            for name, baseline in report.metrics.items():
                if name != "model" and "pr_auc" in baseline:
                    mlflow.log_metric(
                        f"{target}_baseline_{name.replace(' ', '_')}_pr_auc", baseline["pr_auc"]
                    )
            tags = {
                "backtest_window": window["backtest"],
                "backtest_roc_auc": str(figures.get("roc_auc", 0.0)),
                "backtest_precision_at_capacity": str(figures["precision_at_capacity"]),
                "until": until.isoformat(),
            }
            champion = models_registry.champion_version(client, target)
            if champion is not None:
                old, _ = models_registry.load(target, champion)
                scored = split.backtest.with_columns(
                    pl.Series("s", old.probability(split.backtest))
                )
                old_figures = score_metrics(scored, target, "s", capacity)
                tags |= {
                    "compared_with_champion": champion,
                    "champion_backtest_roc_auc": str(old_figures.get("roc_auc", 0.0)),
                    "champion_backtest_precision_at_capacity": str(
                        old_figures["precision_at_capacity"]
                    ),
                }
            with _phase(phases, f"register_{target}"):
                versions[target] = registry.register(model, split.validation.head(200), tags)
        card = {
            "intended use": INTENDED_USE,
            "targets": ", ".join(targets),
            "horizon": f"{snapshot_settings.horizon_days} days",
            "data": str(dataset.path),
            "windows": window,
            "contract": CONTRACT_VERSION,
            "capacity": f"max({capacity.share:.0%} of the population, {capacity.minimum})",
            "registered versions": versions,
            "limits": LIMITS,
        }
        with _phase(phases, "report"):
            path = write_report(reports, card, report_dir)
            mlflow.log_artifacts(str(report_dir), artifact_path="report")
        mlflow.log_metrics({f"phase_{k}_seconds": v for k, v in phases.items()})
    return TrainResult(versions, all_metrics, path, phases, run.info.run_id)
