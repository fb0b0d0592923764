"""One settings object: defaults, then ``earlywarn.toml``, then ``EARLYWARN_*`` variables.

Nothing is read or created at import time: entry points call ``load_settings``.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_FILE_VARIABLE = "EARLYWARN_CONFIG"
DEFAULT_CONFIG_FILE = "earlywarn.toml"


class Settings(BaseSettings):
    """Where earlywarn keeps its work and how it behaves.

    Every generated file (quarantine, reports, later the MLflow store, the
    database and the risk lists) lives under ``work_dir``.
    """

    model_config = SettingsConfigDict(env_prefix="EARLYWARN_", extra="forbid")

    work_dir: Path = Field(Path(".earlywarn"), description="root of everything generated")
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR")
    show_issues: int = Field(50, ge=0, description="problems printed by validate; all are saved")
    mlflow_tracking_uri: str | None = Field(
        None, description="MLflow tracking URI; default: a SQLite store in the work directory"
    )
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the store; default: SQLite in the work directory"
    )
    capacity_share: float = Field(
        0.02, gt=0, le=1, description="daily list: share of the population"
    )
    capacity_minimum: int = Field(50, ge=1, description="daily list: at least this many cases")
    evaluation_rows: int = Field(
        50_000,
        ge=0,
        description="training: the baselines are fitted on a seeded sample of at most this "
        "many fit rows, positives first (up to half) (0: every row; the model always uses "
        "every row)",
    )
    learning_curve: bool = Field(
        False, description="training: refit on 25% and 50% of the fit period for the report"
    )
    database_busy_seconds: float = Field(
        10.0, gt=0, description="how long a write waits for a busy SQLite store before 503"
    )
    key_cache_seconds: float = Field(
        5.0,
        ge=0,
        description="the service holds a shown API key this long (a revoked key "
        "is refused within it; 0: read the store on every call)",
    )
    reload_seconds: float = Field(
        30.0, gt=0, description="how often the service asks whether the champion moved"
    )
    retrain_weekday: int | None = Field(
        6, ge=0, le=6, description="daily job: retrain a challenger on this weekday (0 Monday)"
    )
    catch_up_days: int = Field(
        31, ge=1, description="daily job: build at most this many missed days at once"
    )
    challenge_min_days: int = Field(
        7, ge=1, description="a challenger is judged once this many of its days have matured"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = Path(os.environ.get(CONFIG_FILE_VARIABLE, DEFAULT_CONFIG_FILE))
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file)
        return (init_settings, env_settings, toml)

    @property
    def quarantine_root(self) -> Path:
        return self.work_dir / "quarantine"

    @property
    def reports_dir(self) -> Path:
        return self.work_dir / "reports"

    @property
    def tracking_uri(self) -> str:
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        return f"sqlite:///{(self.work_dir / 'mlflow.db').resolve()}"

    @property
    def artifact_location(self) -> str:
        return (self.work_dir / "mlartifacts").resolve().as_uri()

    def quarantine_dir(self, dataset: Path) -> Path:
        """Quarantine files of one dataset, named after its directory: what loading it
        rejects now (a later load that rejects nothing removes them)."""
        return self.quarantine_root / dataset.resolve().name

    def import_quarantine_dir(self, dataset: Path) -> Path:
        """Where one import into ``dataset`` puts the rows it rejects: a folder of its
        own (``import-<time>``), since a later export may no longer hold those rows and
        loading the dataset never sees them, so nothing may remove them."""
        stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
        folder, n = self.quarantine_dir(dataset) / f"import-{stamp}", 1
        while folder.exists():
            n += 1
            folder = folder.with_name(f"import-{stamp}-{n}")
        return folder


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and the config file, with explicit overrides on top."""
    return Settings(**overrides)  # type: ignore[arg-type]
