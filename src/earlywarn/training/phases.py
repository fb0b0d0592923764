"""Wall-clock time per phase of a training run: logged, kept in MLflow, read by the benchmark."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

logger = logging.getLogger(__name__)


@contextmanager
def timed(phases: dict[str, float], name: str) -> Iterator[None]:
    """Add the seconds spent inside to ``phases[name]``."""
    started = time.perf_counter()
    yield
    phases[name] = phases.get(name, 0.0) + time.perf_counter() - started
    logger.info("phase %s: %.1f s", name, phases[name])
