"""Build the service for uvicorn: settings from the environment, models loaded in the background."""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from earlywarn.logs import configure_logging
from earlywarn.serving.app import create_app
from earlywarn.serving.schemas import CaseIn, ScoreRequest
from earlywarn.serving.scorer import Scorer
from earlywarn.serving.store import open_store
from earlywarn.settings import load_settings

logger = logging.getLogger(__name__)
DATA_VARIABLE = "EARLYWARN_SERVING_DATA"
RELOAD_SECONDS = 30.0
WARM_UP = ScoreRequest(
    case=CaseIn(
        case_id="warm-up",
        petitioner_id="warm-up",
        registered_at=dt.datetime(2025, 1, 1),
        county_code="-",
        category="other",
    ),
    contacts=[],
    as_of=dt.datetime(2025, 2, 1),
)


def start(scorer: Scorer, stop: threading.Event) -> None:
    """Load sources and models, warm up, then follow the champion alias until stopped."""
    try:
        scorer.load_sources()
        while not scorer.refresh_models():
            if stop.wait(RELOAD_SECONDS):
                return
        scorer.score(WARM_UP)
        scorer.ready = True
        logger.info("ready: %s", scorer.versions)
    except Exception:
        logger.exception("the service could not load; /ready stays 503")
        return
    while not stop.wait(RELOAD_SECONDS):
        if scorer.refresh_models():
            scorer.score(WARM_UP)


def build_app() -> FastAPI:
    """The uvicorn factory (``earlywarn.serving.main:build_app``)."""
    settings = load_settings()
    configure_logging(settings.log_level)
    data = os.environ.get(DATA_VARIABLE)
    scorer = Scorer(settings, Path(data) if data else None)
    stop = threading.Event()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        threading.Thread(
            target=start, args=(scorer, stop), daemon=True, name="model-loader"
        ).start()
        yield
        stop.set()

    return create_app(scorer, open_store(settings), lifespan=lifespan)
