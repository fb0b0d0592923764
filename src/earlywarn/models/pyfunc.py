"""The MLflow face of a RiskModel: a pyfunc that returns calibrated probabilities."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
from mlflow.pyfunc.model import PythonModel

from earlywarn.models.artifact import RiskModel


class RiskModelPyfunc(PythonModel):
    """Loads the saved artifact as it is; nothing is refitted at load time."""

    model: RiskModel

    def load_context(self, context: Any) -> None:
        self.model = RiskModel.load(Path(context.artifacts["model"]))

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> Any:
        return self.model.probability(pl.from_pandas(model_input))


def signature_frame(features: pl.DataFrame, names: list[str]) -> pd.DataFrame:
    """Features as MLflow should see them: floats and strings, never pandas nullable integers
    (with those, MLflow silently stores no signature)."""
    return features.select(
        pl.col(n).cast(pl.String)
        if features.schema[n] in (pl.String,) or isinstance(features.schema[n], pl.Enum)
        else pl.col(n).cast(pl.Float64)
        for n in names
    ).to_pandas()
