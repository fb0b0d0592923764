"""Writing files so that a crash never leaves half of one, and the compact JSON that lists
keep in them and in the store: a leaf any layer may use."""

from __future__ import annotations

import functools
import json
import os
import tempfile
from pathlib import Path

# One encoder for every row: ``json.dumps`` with options builds a new one per call, which
# was half the time of a million-row list's reasons, steps and changes as text.
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def compact_json(value: object) -> str:
    """``json.dumps(value, ensure_ascii=False, separators=(",", ":"))``, the same text."""
    return _COMPACT.encode(value)


def write_atomically(path: Path, content: bytes) -> None:
    """Write beside the target, then rename: a crash never leaves half a file in its place.

    The file gets the mode any new file gets here (0666 less the umask), not the 0600 of
    a temporary file: a list's files are read by others (the office's shared folder)."""
    write_all_atomically({path: content})


def write_all_atomically(files: dict[Path, bytes]) -> None:
    """Several files that belong together (a dataset's tables): every one written beside
    its target first, then all renamed, so that a crash or Ctrl-C while writing leaves
    the old set whole (the tables were written one after the other, and an interrupted
    night left new cases beside old contacts)."""
    staged: list[tuple[Path, Path]] = []
    try:
        for path, content in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
            os.close(handle)
            beside = Path(name)
            staged.append((beside, path))
            beside.chmod(0o666 & ~_umask())
            beside.write_bytes(content)
    except BaseException:
        for beside, _ in staged:
            beside.unlink(missing_ok=True)
        raise
    for beside, target in staged:  # renames: instants, not the seconds of writing
        beside.replace(target)


@functools.cache
def _umask() -> int:
    """The process's umask: from /proc on Linux (reading it elsewhere means setting it,
    for an instant, for every thread)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def replace_generated(path: Path, begin: str, end: str, content: str) -> None:
    """Replace what lies between two marker lines of a Markdown file (``make docs``)."""
    head, _, rest = path.read_text(encoding="utf-8").partition(begin)
    _, _, tail = rest.partition(end)
    path.write_text(f"{head}{begin}\n\n{content}\n{end}{tail}", encoding="utf-8")
