"""Writing files so that a crash never leaves half of one: a leaf any layer may use."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, content: bytes) -> None:
    """Write beside the target, then rename: a crash never leaves half a file in its place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(handle)
    try:
        Path(temporary).write_bytes(content)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def replace_generated(path: Path, begin: str, end: str, content: str) -> None:
    """Replace what lies between two marker lines of a Markdown file (``make docs``)."""
    head, _, rest = path.read_text(encoding="utf-8").partition(begin)
    _, _, tail = rest.partition(end)
    path.write_text(f"{head}{begin}\n\n{content}\n{end}{tail}", encoding="utf-8")
