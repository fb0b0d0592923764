"""Build the service for uvicorn: settings from the environment, models loaded in the background."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import unquote_plus

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.logs import configure_logging
from earlywarn.serving.app import create_app
from earlywarn.serving.audit import anchor_file, safe_target, write_anchor
from earlywarn.serving.scorer import WARM_UP, Scorer
from earlywarn.serving.slow_clients import DeadlineProtocol
from earlywarn.serving.store import open_store
from earlywarn.settings import Settings, load_settings

logger = logging.getLogger(__name__)
DATA_VARIABLE = "EARLYWARN_SERVING_DATA"
ANCHOR_SECONDS = 24 * 3600


def start(
    scorer: Scorer,
    stop: threading.Event,
    interval: float,
    chores: Callable[[], None] = lambda: None,
) -> None:
    """Load sources and models, warm up, then follow the champion alias and the dataset's
    files until stopped, doing the periodic ``chores`` (the daily audit anchor) on the way.

    Nothing that happens while following may end this thread: a failure is logged and
    the models that serve keep serving (``Scorer.refresh_models``).
    """
    try:
        scorer.load_sources()
    except Exception:
        logger.exception("the service could not load its dataset; /ready stays 503")
        return
    while not scorer.ready:
        try:
            if scorer.refresh_models():
                scorer.score(WARM_UP)
                scorer.ready = True
                logger.info("ready: %s", scorer.versions)
                break
        except Exception:
            logger.exception("loading the models failed; trying again")
        if stop.wait(interval):
            return
    while not stop.wait(interval):
        try:
            scorer.refresh_models()
            chores()
        except Exception:  # never let the follower die: the models that serve keep serving
            logger.exception("following the champion alias failed; the current models serve")
        try:
            scorer.refresh_sources()
        except Exception:  # a file caught half written: the context that serves stays
            logger.exception("reading the dataset again failed; the current context serves")


def daily_anchor(settings: Settings, sessions: sessionmaker[Session]) -> Callable[[], None]:
    """A chore that anchors the audit chain once a day (the first time at start-up)."""
    last: list[float] = []

    def anchor() -> None:
        if last and time.monotonic() - last[0] < ANCHOR_SECONDS:
            return
        with sessions() as session:
            write_anchor(session, anchor_file(settings), "daily")
        last[:] = [time.monotonic()]

    return anchor


class RedactedAccessLog(logging.Filter):
    """The access log keeps no ID or phone number that a client put in an address (a case
    id in a path may be one): the same redaction as the audit log's targets, on the
    address as the service reads it. uvicorn logs the query as sent, so a number written
    ``%31%33...`` is decoded first (once, as the service decodes it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                safe_target(unquote_plus(a)) if isinstance(a, str) else a for a in record.args
            )
        return True


def build_app() -> FastAPI:
    """The uvicorn factory (``earlywarn.serving.main:build_app``)."""
    settings = load_settings()
    configure_logging(settings.log_level)
    logging.getLogger("uvicorn.access").addFilter(RedactedAccessLog())
    DeadlineProtocol.read_seconds = settings.request_read_seconds  # this worker's protocol
    sessions = open_store(settings)
    data = os.environ.get(DATA_VARIABLE)
    scorer = Scorer(settings, Path(data) if data else None)
    stop = threading.Event()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        threading.Thread(
            target=start,
            args=(scorer, stop, settings.reload_seconds, daily_anchor(settings, sessions)),
            daemon=True,
            name="model-loader",
        ).start()
        yield
        stop.set()

    return create_app(scorer, sessions, lifespan=lifespan)
