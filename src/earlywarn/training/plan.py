"""How the evaluation's own models are fitted: the plan, the baselines' sample, the words.

The baselines (logistic regression, HistGradientBoosting) and the learning-curve points
are models of their own, and fitting them on every fit row took more than half of
training on 50,000 cases (issue 19). By default (``EvaluationPlan.of`` the settings):

* the baselines are fitted on a seeded sample of at most ``Settings.evaluation_rows`` fit
  rows: the rows positive for the target (all of them, up to half the sample) and a
  uniform sample of the others, each class weighted by the inverse of its sampling rate
  (``sample_fit_rows``);
* the learning curve keeps only the model's own point: the refits on the most recent 25%
  and 50% of the fit period are skipped unless ``Settings.learning_curve`` is set.
  Sampling those refits would save little: a LightGBM refit spends much of its time
  scoring the whole validation period every round for early stopping, and on fewer rows
  it takes more rounds (measured in BENCHMARKS.md's notes).

The report and the model card say which was done, with the row counts
(``evaluation_notes``, ``evaluation_card``). ``earlywarn train --full-evaluation`` fits
the baselines on every fit row and refits the learning curve, as before. Either way the
model itself is fitted, calibrated and given its thresholds on every fit row, before the
evaluation starts: its probabilities do not depend on the plan.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from earlywarn.settings import Settings

SEED = 0


@dataclass(frozen=True)
class EvaluationPlan:
    """How the evaluation's own models are fitted. The bare instance is the full
    evaluation (today's report before issue 19); ``of`` reads the settings, whose
    defaults are the sampled one."""

    baseline_rows: int = 0  # the baselines' sample cap; 0: every fit row
    learning_curve: bool = True  # refit on 25% and 50% of the fit period

    @classmethod
    def of(cls, settings: Settings) -> EvaluationPlan:
        return cls(settings.evaluation_rows, settings.learning_curve)

    @property
    def full(self) -> bool:
        return self.baseline_rows == 0 and self.learning_curve


@dataclass(frozen=True)
class FitSample:
    """The fit rows the baselines are fitted on, and how they were drawn."""

    frame: pl.DataFrame
    weights: np.ndarray | None  # per row: 1 / its class's sampling rate; None: every row
    drawn_from: int
    positives: int
    positives_kept: int

    @property
    def rows(self) -> int:
        return self.frame.height


def sample_fit_rows(frame: pl.DataFrame, target: str, most: int, seed: int = SEED) -> FitSample:
    """At most ``most`` rows of ``frame`` (0: every row): every row positive for ``target``
    (at most half of ``most``) and a seeded uniform sample of the others, in frame order.

    Rare positives carry most of what a learner can learn, so they are all kept. The
    weights give each class the inverse of its sampling rate: weighted, the sample has
    the frame's mix, so a baseline's probabilities keep the scale they had on every row.
    """
    label = frame[target].cast(pl.Boolean).fill_null(False).to_numpy()
    positives, negatives = np.flatnonzero(label), np.flatnonzero(~label)
    if most <= 0 or frame.height <= most:
        return FitSample(frame, None, frame.height, positives.size, positives.size)
    rng = np.random.default_rng(seed)
    keep_positive = min(positives.size, most // 2)
    keep_negative = min(negatives.size, most - keep_positive)
    chosen = [
        rng.choice(rows, keep, replace=False) if keep < rows.size else rows
        for rows, keep in ((positives, keep_positive), (negatives, keep_negative))
    ]
    kept = np.sort(np.concatenate(chosen))
    weights = np.where(
        label[kept],
        positives.size / max(keep_positive, 1),
        negatives.size / max(keep_negative, 1),
    )
    return FitSample(frame[kept], weights, frame.height, positives.size, keep_positive)


def _fitted_on(sample: FitSample, what_en: str, what_zh: str) -> str:
    """One sentence, English then Chinese, on the rows ``what`` was fitted on."""
    if sample.weights is None:
        return (
            f"{what_en} fitted on every one of the {sample.drawn_from:,} fit rows. "
            f"{what_zh}在全部 {sample.drawn_from:,} 个训练行上拟合。"
        )
    negatives, negatives_kept = (
        sample.drawn_from - sample.positives,
        sample.rows - sample.positives_kept,
    )
    sampled_en = f"{negatives_kept:,} of the {negatives:,} negatives"
    sampled_zh = f"负例 {negatives:,} 行中的 {negatives_kept:,} 行"
    if sample.positives_kept == sample.positives:
        kept_en = f"every positive ({sample.positives:,}) and {sampled_en}"
        kept_zh = f"全部正例（{sample.positives:,} 行），{sampled_zh}"
    else:
        kept_en = (
            f"{sample.positives_kept:,} of the {sample.positives:,} positives and {sampled_en}"
        )
        kept_zh = f"正例 {sample.positives:,} 行中的 {sample.positives_kept:,} 行，{sampled_zh}"
    return (
        f"{what_en} fitted on {sample.rows:,} of {sample.drawn_from:,} fit rows: {kept_en}, "
        f"drawn with a fixed seed, each class weighted by the inverse of its sampling rate. "
        f"{what_zh}在 {sample.drawn_from:,} 个训练行中的 {sample.rows:,} 行上拟合：{kept_zh}，"
        f"按固定种子抽取，各类按抽样率的倒数加权。"
    )


def evaluation_card(plan: EvaluationPlan, sampled: bool = True) -> str:
    """The model card's line on how the baselines and the learning curve were fitted;
    ``sampled``: whether the cap drew a sample for any target (a fit period smaller than
    the cap is fitted whole, and the card says so)."""
    if plan.full:
        return (
            "full: baselines fitted on every fit row, learning curve refitted. "
            "完整评估：基线模型在全部训练行上拟合，学习曲线重新拟合。"
        )
    mode_en, mode_zh = "reduced", "简化评估"
    baselines_en, baselines_zh = "on every fit row", "在全部训练行上拟合"
    if plan.baseline_rows and sampled:
        mode_en, mode_zh = "sampled", "抽样评估"
        baselines_en = (
            f"on at most {plan.baseline_rows:,} fit rows "
            "(the positives up to half of them, a seeded sample of the rest)"
        )
        baselines_zh = (
            f"最多在 {plan.baseline_rows:,} 个训练行上拟合（正例最多占一半，其余按固定种子抽样）"
        )
    curve_en, curve_zh = ("refitted", "重新拟合") if plan.learning_curve else ("skipped", "未计算")
    return (
        f"{mode_en}: baselines {baselines_en}; learning-curve refits {curve_en}; the model "
        f"itself on every fit row (counts in each target's section; `earlywarn train "
        f"--full-evaluation` does it all on every row). {mode_zh}：基线模型{baselines_zh}；"
        f"学习曲线{curve_zh}；模型本身在全部训练行上拟合（行数见各目标一节；"
        f"`earlywarn train --full-evaluation` 全部在全部训练行上进行）。"
    )


def evaluation_notes(sample: FitSample, refit: bool) -> list[str]:
    """How the evaluation was fitted, in English and Chinese, for the target's section."""
    baselines = _fitted_on(
        sample,
        "Baselines (logistic regression, HistGradientBoosting)",
        "基线模型（逻辑回归、HistGradientBoosting）",
    )
    if refit:
        curve = (
            "Learning curve: the model's recipe refitted on every row of the most recent 25% "
            "and 50% of the fit period. 学习曲线：按模型的方法在训练期最近 25% 和 50% 的全部行上"
            "重新拟合。"
        )
    else:
        curve = (
            "Learning curve: only the model's own point (100% of the fit period); the refits "
            "on the most recent 25% and 50% were skipped (`earlywarn train --full-evaluation` "
            "or EARLYWARN_LEARNING_CURVE=true computes them). 学习曲线：仅有模型本身一点（训练期"
            "的 100%）；训练期最近 25% 和 50% 的重新拟合未进行（`earlywarn train "
            "--full-evaluation` 或 EARLYWARN_LEARNING_CURVE=true 可计算）。"
        )
    model = (
        "The model itself is fitted, calibrated and given its thresholds on every fit row "
        "in either mode; every score above is measured on every backtest row. "
        "无论评估方式如何，模型本身都在全部训练行上拟合、校准并确定阈值；以上各项得分均在全部"
        "回测行上计算。"
    )
    return [baselines, curve, model]


def tuning_card(trials: int, chosen: dict[str, dict[str, object]]) -> str:
    """The model card's line on the search: what it chose per target, as words."""
    if not chosen:
        return "none: LightGBM's defaults with early stopping on the validation period"

    def value_text(value: object) -> str:
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    choices = "; ".join(
        f"{target}: " + ", ".join(f"{name} {value_text(value)}" for name, value in params.items())
        for target, params in chosen.items()
    )
    return f"Optuna, {trials} trials on the validation period; chosen: {choices}"


def worlds_card(summary_file: Path) -> str:
    """The model card's line on the simulated worlds the default training was judged on."""
    if not summary_file.exists():
        return "not measured across simulated worlds (run bench/bench_quality.py)"
    summary = json.loads(summary_file.read_text(encoding="utf-8"))
    parts = [
        f"{target}: ROC-AUC / oracle min {f['roc_ratio_min']:.3f} (median "
        f"{f['roc_ratio_median']:.3f}), average precision / oracle min {f['ap_ratio_min']:.3f} "
        f"(median {f['ap_ratio_median']:.3f}), ECE max {f['ece_max']:.4f}"
        for target, f in summary["figures"].items()
    ]
    seeds = ", ".join(str(s) for s in summary["seeds"])
    return (
        f"the default training on {len(summary['seeds'])} simulated worlds of "
        f"{summary['cases']:,} cases (family seeds {seeds}; bench_quality, "
        f"{summary['measured']}, commit {summary['commit']}): " + "; ".join(parts) + ". "
        "默认训练在多个模拟世界上相对于真值模型的表现见 BENCHMARKS.md。"
    )
