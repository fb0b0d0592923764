"""A model artifact is checked before anything trusts it: its schema, its digest, and a
trial score in a child process.

LightGBM parses a booster file in C++; a truncated or corrupt file can abort the
process that opens it (it reads past the end). So a candidate is opened first in a
child process (``python -m earlywarn.models.check DIR``), which loads the artifact,
checks ``model.json`` against its schema and scores known rows; only when the child
says so does the caller load the same files itself. Used by ``promote`` (even with
``--force``), the service's model follower, the list job and ``score``.
"""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from earlywarn.contract.rules import TARGETS
from earlywarn.features.catalogue import FEATURE_NAMES

BOOSTER_FILE = "booster.txt"
META_FILE = "model.json"
CHECK_SECONDS = 120


class ModelRejectedError(ValueError):
    """A model that must not serve; the message says why, without a trace."""

    def __init__(self, message: str, directory: str | None = None) -> None:
        super().__init__(message)
        self.directory = directory  # which of several artifacts checked at once


class CalibratorSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    x: list[float] = Field(min_length=1)
    y: list[float] = Field(min_length=1)

    @model_validator(mode="after")
    def _shape(self) -> CalibratorSpec:
        if len(self.x) != len(self.y):
            raise ValueError(f"x has {len(self.x)} points, y {len(self.y)}")
        if not all(math.isfinite(v) for v in [*self.x, *self.y]):
            raise ValueError("a breakpoint is not a finite number")
        if any(b < a for a, b in zip(self.x, self.x[1:], strict=False)):
            raise ValueError("x is not in increasing order")
        if not all(0.0 <= v <= 1.0 for v in self.y):
            raise ValueError("y holds a value outside 0..1")
        return self


class ArtifactSpec(BaseModel):
    """What ``model.json`` must hold (types are strict: a threshold is a number)."""

    model_config = ConfigDict(extra="allow", strict=True)
    target: str
    feature_names: list[str] = Field(min_length=1)
    vocab: dict[str, list[str]]
    calibrator: CalibratorSpec
    threshold: float
    medium_threshold: float
    meta: dict[str, Any]

    @model_validator(mode="after")
    def _consistent(self) -> ArtifactSpec:
        if self.target not in TARGETS:
            raise ValueError(f"target {self.target!r} is not one of {list(TARGETS)}")
        unknown = [n for n in self.feature_names if n not in FEATURE_NAMES]
        if unknown:
            raise ValueError(f"features not in this version's catalogue: {unknown}")
        if len(set(self.feature_names)) != len(self.feature_names):
            raise ValueError("a feature is listed twice")
        if not (0.0 < self.medium_threshold <= self.threshold <= 1.0):
            raise ValueError("thresholds must satisfy 0 < medium_threshold <= threshold <= 1")
        return self


def read_spec(directory: Path) -> ArtifactSpec:
    """``model.json``, checked; a ``ModelRejectedError`` names the first problem."""
    try:
        content = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        return ArtifactSpec.model_validate(content)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelRejectedError(f"{META_FILE} cannot be read: {error}") from error
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or META_FILE
        raise ModelRejectedError(f"{META_FILE}, {where}: {first['msg']}") from error


def booster_problem(content: bytes) -> str | None:
    """What makes a LightGBM model file unsafe to hand to LightGBM, or None.

    LightGBM trusts the header's ``tree_sizes`` and parses each tree at the offset they
    give, in parallel: a truncated file makes it read past the end, which may abort the
    process or not, depending on what lies in memory there. So the structure is checked
    here first, in Python: every tree where the sizes say, then ``end of trees``.
    """
    if not content.startswith(b"tree\n"):
        return "not a LightGBM model file"
    marker = content.find(b"\ntree_sizes=")
    if marker < 0:
        return "the model file has no tree_sizes line"
    line_end = content.find(b"\n", marker + 1)
    try:
        sizes = [int(part) for part in content[marker + 12 : line_end].split()]
    except ValueError:
        return "the model file's tree_sizes line is not a list of sizes"
    position = content.find(b"\n\n", marker) + 2
    if position < 2 or not sizes:
        return "the model file holds no tree"
    for index, size in enumerate(sizes):
        block = content[position : position + size]
        if len(block) != size or not block.startswith(f"Tree={index}\n".encode()):
            return f"the model file is truncated or damaged at tree {index} of {len(sizes)}"
        position += size
    if not content[position:].lstrip(b"\n").startswith(b"end of trees"):
        return "the model file is truncated or damaged after its trees"
    return None


def artifact_digest(directory: Path) -> str:
    """SHA-256 over the artifact's two files, recorded at registration, checked at load."""
    digest = hashlib.sha256()
    for name in (BOOSTER_FILE, META_FILE):
        digest.update(name.encode() + b"\0" + (directory / name).read_bytes() + b"\0")
    return digest.hexdigest()


def check_in_child(*directories: Path) -> None:
    """Open and trial-score the artifacts in one child process, one after the other; raise
    for the first that fails or kills the child (``directory`` names it)."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "earlywarn.models.check", *map(str, directories)],
            capture_output=True,
            text=True,
            timeout=CHECK_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise ModelRejectedError(f"the check did not finish in {CHECK_SECONDS} s") from error
    if done.returncode == 0:
        return
    lines = done.stdout.splitlines()
    started = [line.removeprefix("checking: ") for line in lines if line.startswith("checking: ")]
    current = started[-1] if started else None
    rejected = [line for line in lines if line.startswith("rejected: ")]
    if rejected:
        raise ModelRejectedError(rejected[-1].removeprefix("rejected: "), current)
    how = f"signal {-done.returncode}" if done.returncode < 0 else f"exit {done.returncode}"
    message = f"the artifact crashed the process that opened it ({how})"
    raise ModelRejectedError(message, current)


def trial_score(directory: Path) -> None:
    """Load the artifact and score known rows (missing and zero features); raise if the
    answers are not probabilities or the explanations are not finite."""
    from earlywarn.models.artifact import RiskModel

    model = RiskModel.load(directory)
    rows = np.vstack(
        [np.full(len(model.feature_names), np.nan), np.zeros(len(model.feature_names))]
    )
    probability = model.calibrator(model.raw_of(rows))
    if not (np.all(np.isfinite(probability)) and np.all((probability >= 0) & (probability <= 1))):
        raise ModelRejectedError("the trial score is not a probability")
    model.bands(probability)
    if not np.all(np.isfinite(model.contributions_of(rows))):
        raise ModelRejectedError("the trial explanation is not finite")


def main(argv: list[str]) -> int:
    try:
        trial_score(Path(argv[1]))
    except ModelRejectedError as error:
        print(f"rejected: {error}")
        return 1
    except Exception as error:  # a booster LightGBM refuses, a shape that does not fit
        print(
            f"rejected: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        )
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
