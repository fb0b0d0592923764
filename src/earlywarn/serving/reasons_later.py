"""Reasons on demand: the listed rows the daily job did not explain, explained when opened.

The job explains the rows a person reads in the morning (the flagged cases and the
office's capacity) and saves the features of the other listed rows beside the list
(``list_files.UNEXPLAINED``). When the page, the API or an export shows such a row,
its reasons and steps are computed here from those saved features with the list's own
model versions, through the same ``models.scoring`` code: the same reasons the job
would have written, whatever the champion is today. Nothing is written back; the
stored list stays as the job made it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence

import numpy as np
import polars as pl

from earlywarn.contract.rules import TARGETS
from earlywarn.models import registry
from earlywarn.models.reasons import to_json
from earlywarn.models.registry import LoadedModels
from earlywarn.models.scoring import score_frame
from earlywarn.models.steps import to_json as steps_to_json
from earlywarn.serving.list_files import UNEXPLAINED, list_folder
from earlywarn.serving.scorer import Scorer
from earlywarn.serving.store import ITEM_COLUMNS, RiskList, RiskListItem

logger = logging.getLogger(__name__)


def waiting(item: RiskListItem) -> bool:
    """A listed row stored without reasons (every row the job explains has one)."""
    return item.risk_band != "low" and item.reasons in ("[]", "", None)


def version_numbers(version_text: str) -> dict[str, str]:
    """``earlywarn-escalation/3, earlywarn-collective/5`` -> the registry's numbers."""
    numbers = {}
    for part in version_text.split(","):
        name, _, number = part.strip().rpartition("/")
        for target in TARGETS:
            if name == registry.model_name(target):
                numbers[target] = number
    return numbers


@functools.lru_cache(maxsize=4)
def _models_of(version_text: str) -> LoadedModels:
    numbers = version_numbers(version_text)
    if set(numbers) != set(TARGETS):
        raise LookupError(f"the list names no version of every model: {version_text!r}")
    return registry.load_models(dict(numbers))


def models_for(scorer: Scorer, header: RiskList) -> LoadedModels:
    """The models that made the list: the serving ones when they are the same versions."""
    serving = scorer.models
    if serving is not None and serving.version_text == header.model_versions:
        return serving
    registry.connect(scorer.settings)
    return _models_of(header.model_versions)


def _copy(item: RiskListItem, reasons: str, steps: str) -> RiskListItem:
    """A transient copy with its reasons: the session never sees it, so never saves it."""
    values = {column: getattr(item, column) for column in ("id", "list_id", *ITEM_COLUMNS)}
    return RiskListItem(**(values | {"reasons": reasons, "steps": steps}))


def with_reasons(
    scorer: Scorer, header: RiskList, items: Sequence[RiskListItem]
) -> list[RiskListItem]:
    """The rows as given, those stored without reasons replaced by copies with them.

    When the saved features or the list's models cannot be read, the rows stay as they
    are (no reasons shown) and the cause is logged: a page must still open.
    """
    asked = [item.case_id for item in items if waiting(item)]
    if not asked:
        return list(items)
    try:
        file = list_folder(scorer.settings, header.list_date) / UNEXPLAINED
        features = pl.scan_parquet(file).filter(pl.col("case_id").is_in(asked)).collect()
        models = models_for(scorer, header)
        scored = score_frame(
            models, features, choose=lambda _, bands: np.ones(len(bands), dtype=bool)
        )
    except Exception:
        logger.exception(
            "the reasons of %d rows of %s cannot be computed", len(asked), header.list_date
        )
        return list(items)
    found = {
        case_id: (to_json(reasons), steps_to_json(steps))
        for case_id, reasons, steps in zip(
            features["case_id"].to_list(), scored.reasons, scored.steps, strict=True
        )
    }
    return [_copy(item, *found[item.case_id]) if item.case_id in found else item for item in items]
