"""Files written whole, with the mode any new file gets here."""

from __future__ import annotations

import os
from pathlib import Path

from earlywarn.files import write_atomically


def test_a_file_written_atomically_gets_the_usual_mode(tmp_path: Path) -> None:
    """Not the 0600 of a temporary file: a list's files are read by other people."""
    mask = os.umask(0o022)
    os.umask(mask)
    write_atomically(tmp_path / "list.csv", b"case_id\n")
    (tmp_path / "plain.csv").write_bytes(b"case_id\n")  # what open() would give
    mode = (tmp_path / "list.csv").stat().st_mode & 0o777
    assert mode == (tmp_path / "plain.csv").stat().st_mode & 0o777 == 0o666 & ~mask
    assert (tmp_path / "list.csv").read_bytes() == b"case_id\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["list.csv", "plain.csv"]
