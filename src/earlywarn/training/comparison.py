"""What a training may be judged on: periods that hold the target, and a champion that
can be held to the same backtest (one it never saw, predicting the same thing)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import polars as pl

from earlywarn.models.artifact import RiskModel
from earlywarn.training.metrics import Capacity, score_metrics
from earlywarn.training.snapshots import SnapshotSettings, Split

logger = logging.getLogger(__name__)
NOT_COMPARABLE = "champion_not_comparable"  # a version's tag: why its champion was not scored


def require_labels(split: Split, target: str, until: dt.datetime) -> None:
    """Refuse a validation or backtest period without one case of ``target``: a model
    calibrated there says every case is safe, and its figures are undefined (an
    ``--until`` after the data's end leaves both periods empty of events)."""
    windows = split.windows()
    for period, frame in (("validation", split.validation), ("backtest", split.backtest)):
        if not frame[target].cast(pl.Int64).sum():
            raise ValueError(
                f"no case of {target} in the {period} period ({windows[period]}): a model "
                "cannot be calibrated or judged on it. Is --until "
                f"({until:%Y-%m-%d}) after the data's last contact, or the history too short? "
                f"(该时段没有{target}事件，无法校准或评估)"
            )


def _last_day(span: str) -> dt.date:
    return dt.date.fromisoformat(span.split("..")[-1].strip())


def why_not_comparable(
    champion: RiskModel, version: str, window: dict[str, str], snapshot: SnapshotSettings
) -> str | None:
    """Why the champion cannot be scored on this training's backtest, or None.

    The same backtest means the same question (horizon and group size) on days whose
    outcomes the champion never learnt from: its last fitted or validated moment plus
    its horizon must come before the backtest's first day."""
    meta: dict[str, Any] = champion.meta
    asked = (meta.get("horizon_days"), meta.get("group_threshold"))
    if asked != (snapshot.horizon_days, snapshot.group_threshold):
        return (
            f"champion {version} predicts within {asked[0]} days (groups of {asked[1]}), this "
            f"version within {snapshot.horizon_days} days (groups of "
            f"{snapshot.group_threshold}): they answer different questions (预测目标定义不同)"
        )
    seen = meta.get("windows", {}).get("validation")
    if not seen:
        return None
    learnt = _last_day(seen) + dt.timedelta(days=int(asked[0] or snapshot.horizon_days))
    first = dt.date.fromisoformat(window["backtest"].split("..")[0].strip())
    if learnt >= first:
        return (
            f"champion {version} learnt from outcomes up to {learnt}, after this backtest "
            f"began ({first}): scored there it would be judged on its own training data "
            "(冠军模型的训练数据覆盖了本次回测期)"
        )
    return None


def champion_tags(
    champion: RiskModel,
    version: str,
    backtest: pl.DataFrame,
    target: str,
    capacity: Capacity,
    window: dict[str, str],
    snapshot: SnapshotSettings,
) -> dict[str, str]:
    """The tags that let ``promote`` hold a version to its champion on the same backtest,
    or say why it cannot."""
    reason = why_not_comparable(champion, version, window, snapshot)
    if reason is not None:
        return {NOT_COMPARABLE: f"{version}: {reason}"}
    scored = backtest.with_columns(pl.Series("s", champion.probability(backtest)))
    figures = score_metrics(scored, target, "s", capacity)
    return {
        "compared_with_champion": version,
        "champion_backtest_roc_auc": str(figures["roc_auc"]),
        "champion_backtest_precision_at_capacity": str(figures["precision_at_capacity"]),
    }


def unseen_truth(
    truth: pl.DataFrame, split: Split, snapshot: SnapshotSettings
) -> pl.DataFrame | None:
    """The simulator's truth, when its day lies after every outcome the model learnt
    from (the last validation moment plus the horizon); else None, said in the log: on
    days it was fitted or calibrated on, a model can seem to beat the oracle."""
    day, validated = truth["as_of"].min(), split.validation["as_of"].max()
    assert isinstance(day, dt.datetime) and isinstance(validated, dt.datetime)
    learnt = validated.date() + dt.timedelta(days=snapshot.horizon_days)
    if day.date() > learnt:
        return truth
    logger.warning(
        "no oracle comparison: the truth's day (%s) is within the outcomes the model learnt "
        "from (up to %s); simulate a truth after it",
        day.date(),
        learnt,
    )
    return None
