"""``earlywarn train``: snapshots, time split, one model per target, baselines, report, registry."""

from __future__ import annotations

import datetime as dt
import logging
import shlex
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import mlflow
import numpy as np
import polars as pl

from earlywarn import __version__
from earlywarn.contract.loader import Dataset
from earlywarn.contract.rules import TARGETS
from earlywarn.contract.spec import CONTRACT_VERSION
from earlywarn.ingest.sources import shown_source
from earlywarn.models import registry as models_registry
from earlywarn.models.artifact import vocabularies
from earlywarn.models.reference import FLAG_SHARE_KEY
from earlywarn.resources import quality_worlds
from earlywarn.settings import Settings
from earlywarn.training import registry
from earlywarn.training.comparison import champion_tags, require_labels, unseen_truth
from earlywarn.training.evaluation import evaluate, oracle_cases
from earlywarn.training.fit import fit_target, tune
from earlywarn.training.matrices import Matrices
from earlywarn.training.metrics import Capacity
from earlywarn.training.phases import timed
from earlywarn.training.plan import EvaluationPlan, evaluation_card, tuning_card, worlds_card
from earlywarn.training.report import write_report
from earlywarn.training.snapshots import Snapshots, SnapshotSettings, snapshot_split
from earlywarn.training.verdict import RULE, verdict

logger = logging.getLogger(__name__)
LIMITS = (
    "以本单位历史数据训练，其指标只适用于相似时期；为事项评分，不为人评分，不使用任何敏感个人"
    "属性；使用前请查看偏差审计；概率从不为 0 或 1。"
    " Trained on the office's own history; its figures hold for similar periods. Scores cases, "
    "never people; no sensitive personal attribute is used. Review the bias audit before use. "
    "Probabilities are never 0 or 1: each isotonic calibration block's rate k/n is given as "
    "(k + 1) / (n + 2), so a small block at either end says less than certainty; between "
    "the blocks' centres the map is a straight line, so cases scored differently differ."
)
INTENDED_USE = (
    "帮助信访部门排出需要尽早化解的事项（事要解决、就地化解）；是给决策者的建议并附理由，"
    "不用于对人的决定。"
    " Prioritise petition cases for early resolution by the office (事要解决、就地化解). "
    "Advice to a person who decides, with reasons; not for decisions about people."
)


def command_line(arguments: list[str]) -> str:
    """The command as typed, a database URL's password left out (``--data URL`` or
    ``--data=URL``, in the address or as ``?password=``)."""
    shown = []
    for word in arguments:
        option, equals, value = word.partition("=") if word.startswith("--") else ("", "", word)
        shown.append(option + equals + shown_source(value))
    return " ".join(shlex.quote(word) for word in ["earlywarn", *shown])


def _against_champions(
    champions: dict[str, dict[str, str]], metrics: dict[str, dict[str, float]]
) -> str:
    """Each target's new version beside its champion on the same backtest, in words."""
    said = []
    for target, held in champions.items():
        if "compared_with_champion" not in held:
            said.append(f"{target}: not comparable ({next(iter(held.values()), '')})")
            continue
        mine = metrics[target]
        said.append(
            f"{target}: ROC-AUC {mine.get('roc_auc', float('nan')):.4f} vs champion "
            f"{held['compared_with_champion']}'s {float(held['champion_backtest_roc_auc']):.4f}, "
            f"precision at capacity {mine['precision_at_capacity']:.4f} vs "
            f"{float(held['champion_backtest_precision_at_capacity']):.4f}"
        )
    return "; ".join(said)


@dataclass
class TrainResult:
    versions: dict[str, str]
    metrics: dict[str, dict[str, float]]
    report: Path
    phases: dict[str, float] = field(default_factory=dict)
    run_id: str = ""
    fit_rows: dict[str, dict[str, int]] = field(default_factory=dict)  # per target: evaluation
    oracle: dict[str, dict[str, float]] = field(default_factory=dict)  # per target, simulated truth
    # Per target, the champion held to the same backtest (its tags), or why it was not.
    champion: dict[str, dict[str, str]] = field(default_factory=dict)
    # Per target, what the backtest says of the list against the office's rule (zh, en).
    verdicts: dict[str, tuple[str, str]] = field(default_factory=dict)


class SnapshotSource(Protocol):
    """Snapshots built somewhere else than from an in-memory dataset (``spark.snapshots``)."""

    name: str

    def build(
        self, until: dt.datetime, settings: SnapshotSettings, treated: pl.DataFrame | None
    ) -> Snapshots: ...


def train(
    dataset: Dataset | None,
    until: dt.datetime,
    settings: Settings,
    targets: tuple[str, ...] = TARGETS,
    snapshot_settings: SnapshotSettings | None = None,
    tune_trials: int = 0,
    truth: pl.DataFrame | None = None,
    treated: pl.DataFrame | None = None,
    snapshots_of: SnapshotSource | None = None,
) -> TrainResult:
    """Train, backtest and register each target's model. ``treated`` (case_id,
    acted_at: the office's actions on listed cases) leaves out the snapshot rows
    whose outcome an action touched. ``settings.evaluation_rows`` and
    ``settings.learning_curve`` say how the baselines and the learning curve are fitted;
    the model is fitted on every fit row whatever they say (training/plan.py).
    ``snapshots_of`` builds the snapshots elsewhere (a cluster) instead of from
    ``dataset``; it names the data it read."""
    snapshot_settings = snapshot_settings or SnapshotSettings()
    capacity = Capacity(settings.capacity_share, settings.capacity_minimum)
    plan = EvaluationPlan.of(settings)
    phases: dict[str, float] = {}
    with timed(phases, "snapshots"):
        if snapshots_of is not None:
            snapshots = snapshots_of.build(until, snapshot_settings, treated)
            data_name = snapshots_of.name
        else:
            assert dataset is not None
            snapshots = snapshot_split(dataset, until, snapshot_settings, treated)
            data_name = str(dataset.path)
        split = snapshots.split
    matrices = Matrices(split.fit, split.validation, split.backtest)  # shared by the targets
    client = models_registry.connect(settings)
    reports, versions, all_metrics, fit_rows = [], {}, {}, {}
    champions: dict[str, dict[str, str]] = {}
    thresholds: dict[str, str] = {}  # per target, the flag's and the medium band's
    tuned: dict[str, dict[str, object]] = {}
    oracle = None
    truth = truth if truth is None else unseen_truth(truth, split, snapshot_settings)
    if truth is not None:
        assert dataset is not None, "the oracle's features are computed on this machine"
        with timed(phases, "oracle"):  # the truth's features, once for both targets
            oracle = oracle_cases(dataset, truth)
    window = split.windows()
    report_dir = _fresh_folder(settings.reports_dir, f"train-{dt.datetime.now():%Y%m%d-%H%M%S}")
    run_name = report_dir.name
    with mlflow.start_run(run_name=run_name) as run:
        mlflow.log_params(
            {
                "until": until.isoformat(),
                "targets": ",".join(targets),
                "tune_trials": tune_trials,
                "evaluation_baseline_rows": (
                    plan.baseline_rows
                    if plan.baseline_rows and plan.baseline_rows < split.fit.height
                    else "all"
                ),
                "evaluation_learning_curve": plan.learning_curve,
                "capacity_share": capacity.share,
                "capacity_minimum": capacity.minimum,
                **{f"snapshot_{k}": v for k, v in asdict(snapshot_settings).items()},
                **{f"window_{k}": v for k, v in window.items()},
                "rows_fit": split.fit.height,
                "rows_left_out_treated": snapshots.left_out_treated,
                "rows_validation": split.validation.height,
                "rows_backtest": split.backtest.height,
            }
        )
        for target in targets:
            require_labels(split, target, until)
            with timed(phases, f"fit_{target}"):
                vocab = vocabularies(split.fit["county_code"].drop_nulls().unique().to_list())
                params = (
                    tune(split.fit, split.validation, target, vocab, tune_trials, matrices)
                    if tune_trials
                    else {}
                )
                if params:  # what the search chose, where an analyst looks for it
                    mlflow.log_params({f"{target}_tuned_{k}": v for k, v in params.items()})
                    tuned[target] = params
                meta = {
                    "horizon_days": snapshot_settings.horizon_days,
                    "group_threshold": snapshot_settings.group_threshold,
                    "windows": window,
                    "contract_version": CONTRACT_VERSION,
                }
                model = fit_target(
                    split.fit, split.validation, target, capacity, params, meta, matrices
                )
            with timed(phases, f"evaluate_{target}"):
                report = evaluate(split, target, model, capacity, plan, oracle, phases, matrices)
            reports.append(report)
            days = report.stability
            model.meta[FLAG_SHARE_KEY] = (days["flagged_at_threshold"] / days["rows"]).to_list()
            fit_rows[target] = report.fit_rows
            figures = report.metrics["model"]
            all_metrics[target] = figures
            mlflow.log_metrics({f"{target}_{k}": v for k, v in figures.items() if np.isfinite(v)})
            mlflow.log_metrics({f"{target}_oracle_{k}": v for k, v in report.oracle.items()})
            mlflow.log_metrics({f"{target}_bias_{by}_groups_caught_less": s["groups_caught_less"]
                                for by, (_, s) in report.bias.items()})  # fmt: skip
            for name, baseline in report.metrics.items():
                if name != "model" and "pr_auc" in baseline:
                    mlflow.log_metric(
                        f"{target}_baseline_{name.replace(' ', '_')}_pr_auc", baseline["pr_auc"]
                    )
            tags = {
                "backtest_window": window["backtest"],
                "backtest_roc_auc": str(figures["roc_auc"]),
                "backtest_precision_at_capacity": str(figures["precision_at_capacity"]),
                # The office's own rule on the same backtest: what a first champion is
                # held to when promoted (it has no champion to beat).
                **(
                    {"office_rule_precision_at_capacity": str(rule["precision_at_capacity"])}
                    if (rule := report.metrics.get(RULE))
                    else {}
                ),
                "until": until.isoformat(),
                "horizon_days": str(snapshot_settings.horizon_days),
                # Which data: two versions trained up to one day on two datasets read alike.
                # The dataset's place: this machine's folder, or the cluster's path.
                "trained_on": str(dataset.path.resolve()) if dataset is not None else data_name,
            }
            champion = models_registry.champion_version(client, target)
            if champion is not None:
                old, _ = models_registry.load(target, champion)
                held = champion_tags(
                    old, champion, split.backtest, target, capacity, window, snapshot_settings
                )
                tags |= held
                champions[target] = held
            with timed(phases, f"register_{target}"):
                versions[target] = registry.register(model, split.validation.head(200), tags)
            thresholds[target] = (
                f"flag at or above {model.threshold:.4f}, medium band from "
                f"{model.medium_threshold:.4f} (set on validation to the capacity)"
            )
        card = {
            "intended use": INTENDED_USE,
            # How to make it again: the software and the command that trained it.
            "software": f"earlywarn {__version__}",
            "command": command_line(sys.argv[1:]),
            "targets": ", ".join(targets),
            "horizon": f"{snapshot_settings.horizon_days} days",
            "data": data_name,
            "windows": window,
            "contract": CONTRACT_VERSION,
            "capacity": f"max({capacity.share:.0%} of the population, {capacity.minimum})",
            "thresholds": thresholds,
            "evaluation": evaluation_card(
                plan, any(rows["baselines"] < rows["fit"] for rows in fit_rows.values())
            ),
            "tuning": tuning_card(tune_trials, tuned),
            "simulated worlds": worlds_card(quality_worlds()),
            "registered versions": versions,
            # A challenger's report says how it stood against the champion of its day.
            **(
                {"against the champion": _against_champions(champions, all_metrics)}
                if champions
                else {}
            ),
            "limits": LIMITS,
        }
        with timed(phases, "report"):
            path = write_report(reports, card, report_dir)
            mlflow.log_artifacts(str(report_dir), artifact_path="report")
        mlflow.log_metrics({f"phase_{k}_seconds": v for k, v in phases.items()})
    oracle_figures = {r.target: r.oracle for r in reports if r.oracle}
    verdicts = {r.target: verdict(r.target, r.metrics, r.stability.height) for r in reports}
    return TrainResult(
        versions, all_metrics, path, phases, run.info.run_id, fit_rows, oracle_figures, champions,
        verdicts,
    )  # fmt: skip


def _fresh_folder(parent: Path, name: str) -> Path:
    """A report folder of this run's own: two trainings started in the same second wrote
    into one, and the later report replaced the earlier."""
    parent.mkdir(parents=True, exist_ok=True)
    for number in range(1, 1000):
        folder = parent / (name if number == 1 else f"{name}-{number}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise FileExistsError(f"{parent / name}: a thousand reports of this second")
