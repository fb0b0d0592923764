"""Champion against challenger on the lists that have matured.

Once enough of the challenger's shadow days have passed their horizon, both
models are compared on the same cases and outcomes: the challenger must rank
better (higher ROC-AUC, precision at capacity not lower), stay calibrated (ECE at
most 0.02, or no worse than the champion's) and not make the flag rates of the
counties further apart (the bias audit's largest ratio at most 1.25 times the
champion's); then the usual promotion rule on the backtest decides. A challenger
that is not promoted retires (its alias is removed), so that the next retraining
day trains another. Every judgement is written to the audit chain and to the
challenger's tags.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from sklearn.metrics import roc_auc_score

from earlywarn.commands.decisions import record
from earlywarn.contract import Dataset
from earlywarn.contract.rules import TARGETS
from earlywarn.models import registry as models_registry
from earlywarn.serving.shadow import matured_shadow
from earlywarn.serving.store import open_store
from earlywarn.settings import Settings
from earlywarn.training import registry
from earlywarn.training.metrics import Capacity, bias_audit, expected_calibration_error, top_k_flags

ECE_BOUND = 0.02
BIAS_SLACK = 1.25


@dataclass(frozen=True)
class Figures:
    roc_auc: float
    precision: float
    ece: float
    county_ratio: float

    def text(self) -> str:
        return (
            f"ROC-AUC {self.roc_auc:.4f}, precision at capacity {self.precision:.4f}, "
            f"ECE {self.ece:.4f}, county flag-rate ratio {self.county_ratio:.2f}"
        )


def figures_of(matured: pl.DataFrame, score: str, capacity: Capacity) -> Figures:
    happened = matured["happened"].fill_null(False).to_numpy()
    probability = matured[score].to_numpy()
    flags = top_k_flags(matured, score, capacity)
    flagged = matured.with_columns(pl.Series("flag", flags), pl.col("happened").fill_null(False))
    _, summary = bias_audit(flagged, "county_code", "happened", "flag")
    both = 0 < happened.sum() < happened.size
    return Figures(
        roc_auc=float(roc_auc_score(happened, probability)) if both else float("nan"),
        precision=float(happened[flags].mean()) if flags.any() else 0.0,
        ece=expected_calibration_error(happened.astype(float), probability),
        county_ratio=summary.get("flag_rate_max_ratio", 1.0),
    )


def verdict(champion: Figures, challenger: Figures) -> str | None:
    """Why the challenger may not replace the champion on matured lists; None: it may."""
    if not challenger.roc_auc > champion.roc_auc:
        return "its ROC-AUC on matured lists is not higher"
    if challenger.precision < champion.precision:
        return "its precision at capacity on matured lists is lower"
    bound = max(ECE_BOUND, champion.ece)
    if challenger.ece > bound:
        return f"its calibration error {challenger.ece:.4f} is above {bound:.4f}"
    if challenger.county_ratio > BIAS_SLACK * max(champion.county_ratio, 1.0):
        return "it sets the counties' flag rates further apart"
    return None


def judge_challengers(settings: Settings, dataset: Dataset, as_of: dt.datetime) -> list[str]:
    """Judge each target's challenger whose matured shadow days suffice; promote the
    ones that win. Returns what was decided, in words."""
    client = models_registry.connect(settings)
    capacity = Capacity(settings.capacity_share, settings.capacity_minimum)
    said = []
    for target in TARGETS:
        challenger = models_registry.alias_version(client, target, models_registry.CHALLENGER)
        if challenger is None:
            continue
        with open_store(settings)() as session:
            matured = matured_shadow(settings, session, dataset, as_of, target, challenger)
        days = matured["as_of"].n_unique() if matured.height else 0
        if days < settings.challenge_min_days:
            continue
        old, new = (
            figures_of(matured, "champion", capacity),
            figures_of(matured, "challenger", capacity),
        )
        name = models_registry.model_name(target)
        tags = {
            "matured_days": days,
            "matured_roc_auc": new.roc_auc,
            "matured_precision_at_capacity": new.precision,
            "matured_ece": new.ece,
            "champion_matured_roc_auc": old.roc_auc,
            "champion_matured_precision_at_capacity": old.precision,
        }
        for key, value in tags.items():
            client.set_model_version_tag(name, challenger, key, str(value))
        reason = verdict(old, new)
        promoted = False
        if reason is None:
            decision = registry.promote(client, target, challenger)
            promoted = decision.promoted
            message = decision.message if promoted else f"not promoted: {decision.message}"
        else:
            message = f"{name} version {challenger} is not promoted: {reason}"
        if not promoted:  # judged: it retires, and the next retraining day trains another
            client.delete_registered_model_alias(name, models_registry.CHALLENGER)
        client.set_model_version_tag(name, challenger, "challenge_verdict", message[:500])
        message += f" (over {days} matured days: challenger {new.text()}; champion {old.text()})"
        record(settings, "model.challenge", f"{target}={challenger}", message)
        said.append(message)
    return said
