"""Logging for entry points: plain lines on stderr, configured once."""

from __future__ import annotations

import logging
import os
import sys


def configure_logging(level: str = "INFO") -> None:
    """Send earlywarn's logs to stderr; called by entry points, never at import."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    if level.upper() != "DEBUG":  # MLflow's store migrations name every plugin they load
        logging.getLogger("alembic").setLevel(logging.WARNING)
    # MLflow draws a progress bar for every artifact it reads (two small files a model).
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
