"""One settings object: defaults, then ``earlywarn.toml``, then ``EARLYWARN_*`` variables.

Nothing is read or created at import time: entry points call ``load_settings``.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_FILE_VARIABLE = "EARLYWARN_CONFIG"
DEFAULT_CONFIG_FILE = "earlywarn.toml"
# Variables of ours that are not settings (read where they are used).
OTHER_VARIABLES = frozenset({CONFIG_FILE_VARIABLE, "EARLYWARN_AUDIT_KEY", "EARLYWARN_SERVING_DATA"})
NEVER = ("", "none", "never", "off")  # what turns the weekly retraining off
SECRET_SETTINGS = frozenset({"database_url", "mlflow_tracking_uri"})  # may hold a password


class SettingsError(ValueError):
    """Settings that cannot be used: the message names the setting and where it is set."""


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
    request_read_seconds: float = Field(
        30.0,
        gt=0,
        description="the service closes a connection whose request (headers and body) has "
        "not arrived whole this long after it began, answering 408",
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

    import_name: str | None = Field(
        None,
        pattern=r"^[\w.-]+$",
        description="an office's export is merged night after night into imported/<this "
        "name> (default: the export's file name without its extension; set it when that "
        "name changes every night, a date in it)",
    )

    import_mapping: Path | None = Field(
        None,
        description="the mapping file (headers, values, offices, a database's tables) every "
        "import of an office's export reads, the nightly job's included",
    )

    @field_validator("retrain_weekday", mode="before")
    @classmethod
    def _never(cls, value: Any) -> Any:
        """TOML has no null: ``"never"`` (or an empty variable) turns retraining off."""
        if isinstance(value, str) and value.strip().lower() in NEVER:
            return None
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file())
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


def config_file() -> Path:
    return Path(os.environ.get(CONFIG_FILE_VARIABLE, DEFAULT_CONFIG_FILE))


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and the config file, with explicit overrides on top.

    Raises ``SettingsError`` naming the setting, its source and what is wrong; a config
    file named by ``EARLYWARN_CONFIG`` must exist (a typo there would otherwise run on
    the defaults: a new, empty work directory)."""
    named = os.environ.get(CONFIG_FILE_VARIABLE)
    if named and not Path(named).is_file():
        raise SettingsError(
            f"{CONFIG_FILE_VARIABLE} names {named}, which is not a file "
            f"(配置文件不存在 / the config file does not exist)"
        )
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{config_file()}: not valid TOML (格式有误): {error}") from None
    except ValidationError as error:
        raise SettingsError(_explained(error)) from None


def _explained(error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        name = str(problem["loc"][0]) if problem["loc"] else "?"
        variable = f"EARLYWARN_{name.upper()}"
        known = name in Settings.model_fields
        shown = "" if name in SECRET_SETTINGS else f" (got {problem.get('input')!r})"
        what = problem["msg"] if known else "no such setting (没有此配置项)"
        lines.append(f"{name}: {what}{shown}; set in {config_file()} or {variable}")
    return "invalid settings (配置有误): " + "; ".join(lines)


def unknown_variables() -> list[str]:
    """``EARLYWARN_*`` variables that name no setting (a typo is otherwise ignored)."""
    settings = {f"EARLYWARN_{name.upper()}" for name in Settings.model_fields}
    return sorted(
        name
        for name in os.environ
        if name.upper().startswith("EARLYWARN_")
        and name.upper() not in settings | OTHER_VARIABLES
        and not name.upper().startswith("EARLYWARN_TEST_")
    )
