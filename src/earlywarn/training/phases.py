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


def phases_text(phases: dict[str, float]) -> str:
    """The phases as they add up: the baselines and the learning curve, which run inside a
    target's evaluation, in brackets after it."""
    inside = ("baselines_", "learning_curve_")
    said = []
    for name, seconds in phases.items():
        if name.startswith(inside):
            continue
        text = f"{name} {seconds:.1f}s"
        target = name.removeprefix("evaluate_")
        parts = [f"{p}{target} {phases[p + target]:.1f}s" for p in inside if p + target in phases]
        if name.startswith("evaluate_") and parts:
            text += f" (of which {', '.join(parts)})"
        said.append(text)
    return ", ".join(said)
