"""The backtest report: one HTML page with PNG plots, per target, and the model card."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers and CI
import matplotlib.pyplot as plt
import numpy as np
import polars as pl
from sklearn.metrics import precision_recall_curve, roc_curve

from earlywarn.contract.rules import TARGET_NAMES
from earlywarn.features.catalogue import BY_NAME
from earlywarn.training.metrics import BIAS_MIN_POSITIVES
from earlywarn.training.report_words import card_label, caught_less_words, reading_guide
from earlywarn.training.verdict import verdict

STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:1200px}"
    "table{border-collapse:collapse;margin:.5em 0}"
    "td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}img{max-width:100%}"
)


@dataclass
class TargetReport:
    target: str
    labels: np.ndarray
    scores: dict[str, np.ndarray]  # "model" and each baseline, on the backtest rows
    metrics: dict[str, dict[str, float]]  # same keys as scores
    calibration: list[tuple[float, float, int]]
    stability: pl.DataFrame
    slices: dict[str, pl.DataFrame]
    bias: dict[str, tuple[pl.DataFrame, dict[str, float]]]
    importance: list[tuple[str, float]]
    learning_curve: pl.DataFrame
    oracle: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # how the evaluation was fitted, in words
    fit_rows: dict[str, int] = field(default_factory=dict)  # the same, as counts


def _card_value(value: object) -> str:
    """A model card entry as text: a mapping as "key: value" pairs, not Python's repr."""
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_card_value(item)}" for key, item in value.items())
    return str(value)


def _cell(value: object) -> str:
    """Counts (whole numbers from 2 up, a day as YYYYMMDD) as integers, other figures
    to four places, the rest as escaped text."""
    if isinstance(value, float) and value.is_integer() and abs(value) >= 2:
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.4f}"
    return html.escape(str(value))


_COUNTS = ("rows", "positives", "cases", "flagged", "fit_rows")  # whole numbers, not 1.0000


def _table(frame: pl.DataFrame) -> str:
    frame = frame.with_columns(
        pl.col(c).round(0).cast(pl.Int64, strict=False)
        for c in _COUNTS
        if c in frame.columns and frame.schema[c].is_float()
    )
    head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    rows = []
    for row in frame.iter_rows():
        cells = "".join(f"<td>{_cell(v)}</td>" for v in row)
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _plots(report: TargetReport, directory: Path) -> list[str]:
    files = []
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for name, score in report.scores.items():
        fpr, tpr, _ = roc_curve(report.labels, score)
        precision, recall, _ = precision_recall_curve(report.labels, score)
        axes[0].plot(fpr, tpr, label=name)
        axes[1].plot(recall, precision, label=name)
    axes[0].plot([0, 1], [0, 1], "k:", linewidth=0.8)
    axes[0].set(title="ROC", xlabel="false positive rate", ylabel="true positive rate")
    axes[1].set(title="precision-recall", xlabel="recall", ylabel="precision")
    predicted, observed, _ = zip(*report.calibration, strict=True)
    axes[2].plot(predicted, observed, "o-", label="model")
    top = max(max(predicted), max(observed)) * 1.05
    axes[2].plot([0, top], [0, top], "k:", linewidth=0.8)
    axes[2].set(title="calibration (equal-count bins)", xlabel="predicted", ylabel="observed")
    axes[0].legend(fontsize=8)
    figure.tight_layout()
    files.append(f"{report.target}_curves.png")
    figure.savefig(directory / files[-1], dpi=90)
    plt.close(figure)

    figure, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    stable = report.stability.drop_nulls("precision_at_capacity")
    axes[0].plot(stable["as_of"].to_list(), stable["precision_at_capacity"].to_list(), "o-")
    axes[0].set(title="precision at capacity per as-of day", ylabel="precision")
    axes[0].tick_params(axis="x", rotation=45)
    names = [BY_NAME[n].label_en for n, _ in report.importance[:15]][::-1]
    axes[1].barh(names, [v for _, v in report.importance[:15]][::-1])
    axes[1].set(title="top features (mean |SHAP|)")
    curve = report.learning_curve
    axes[2].plot(curve["fit_rows"].to_list(), curve["pr_auc"].to_list(), "o-", label="PR-AUC")
    axes[2].plot(curve["fit_rows"].to_list(), curve["roc_auc"].to_list(), "s-", label="ROC-AUC")
    axes[2].set(title="learning curve (backtest)", xlabel="fit rows", xscale="log")
    axes[2].legend(fontsize=8)
    figure.tight_layout()
    files.append(f"{report.target}_stability.png")
    figure.savefig(directory / files[-1], dpi=90)
    plt.close(figure)
    return files


def _metrics_table(report: TargetReport) -> pl.DataFrame:
    keys = ["roc_auc", "pr_auc", "brier", "ece", "precision_at_capacity", "capacity_hits",
            "capacity_places", "recall_at_capacity", "precision_at_top1pct",
            "precision_at_top5pct", "lift_at_capacity", "rows", "positives"]  # fmt: skip
    return pl.DataFrame(
        [
            {"score": name, **{k: figures.get(k) for k in keys}}
            for name, figures in report.metrics.items()
        ]
    )


def write_report(reports: list[TargetReport], card: dict[str, Any], directory: Path) -> Path:
    """Write ``report.html`` and its PNGs into ``directory``; return the HTML path."""
    directory.mkdir(parents=True, exist_ok=True)
    sections = []
    for report in reports:
        images = "".join(f'<img src="{name}" alt="{name}">' for name in _plots(report, directory))
        oracle = ""
        if report.oracle:
            oracle = (
                "<h3>与理想模型对比（模拟真值）/ Against the oracle (simulated truth)</h3>"
                + _table(pl.DataFrame([report.oracle]))
            )
        bias = "".join(
            f"<h3>偏差审计 {by} / Bias audit by {by}</h3><p>The largest gap and ratio of the flag "
            f"rate and the true-positive rate, over the groups with at least "
            f"{BIAS_MIN_POSITIVES} positives; the others are in the table below. 最大差距与"
            f"比值只计入正例不少于 {BIAS_MIN_POSITIVES} 个的组。</p>"
            f"{caught_less_words(by, table)}{_table(pl.DataFrame([summary]))}{_table(table)}"
            for by, (table, summary) in report.bias.items()
        )
        slices = "".join(
            f"<h3>按 {by} 分组 / By {by}</h3><p>ROC-AUC within the {by}; precision and recall at "
            f"capacity: those of the office's list (each day's top cases of the whole "
            f"population) among the {by}'s cases, as in the bias audit. 容量内的精确率与召回率"
            f"为全体每日清单在该组内的表现。</p>{_table(table)}"
            for by, table in report.slices.items()
        )
        notes = "".join(f"<li>{html.escape(note)}</li>" for note in report.notes)
        sections.append(
            f"<h2>{TARGET_NAMES[report.target][0]} {report.target}</h2>"
            "<h3>回测：模型与基线 / Backtest: model and baselines</h3>"
            f"{_table(_metrics_table(report))}"
            f"<h3>评估方式 / How the evaluation was fitted</h3><ul>{notes}</ul>"
            f"{oracle}{images}<h3>按日 / Per as-of day</h3>{_table(report.stability)}"
            f"{slices}{bias}<h3>学习曲线 / Learning curve</h3>{_table(report.learning_curve)}"
        )
    card_rows = "".join(
        f"<tr><th>{html.escape(card_label(k))}</th><td>{html.escape(_card_value(v))}</td></tr>"
        for k, v in card.items()
    )
    # The first screen says what the backtest says, before any table.
    said = (verdict(r.target, r.metrics, r.stability.height) for r in reports)
    verdicts = "".join(f"<p>{html.escape(zh)}</p><p>{html.escape(en)}</p>" for zh, en in said)
    named = {(r.target, by): int(s["groups_caught_less"]) for r in reports
             for by, (_, s) in r.bias.items() if s.get("groups_caught_less")}  # fmt: skip
    if named:  # the audit's own finding, on the first screen too
        listed = ", ".join(f"{target} by {by}: {count}" for (target, by), count in named.items())
        verdicts += (
            f"<p>偏差审计点名了明显漏判的组，见下文 / The bias audit names groups whose "
            f"escalations the lists caught clearly less often ({listed}): see below.</p>"
        )
    page = (
        f"<!doctype html><html lang='zh'><head><meta charset='utf-8'>"
        f"<title>earlywarn 回测报告 / backtest report</title><style>{STYLE}</style></head><body>"
        f"<h1>earlywarn 回测报告 / backtest report</h1>"
        f"<h2 id='verdict'>结论 / What the backtest says</h2>{verdicts}<h2>模型卡 / Model card</h2>"
        f"<table>{card_rows}</table>{reading_guide()}"
        f"{''.join(sections)}</body></html>"
    )
    path = directory / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
