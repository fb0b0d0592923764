"""Files written whole, with the mode any new file gets here; the compact JSON they keep."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from earlywarn.files import compact_json, write_atomically


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


def test_files_that_belong_together_are_replaced_together_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import wrote its tables one after the other: stopped between two, the dataset
    held tonight's cases beside last night's contacts."""
    from earlywarn.files import write_all_atomically

    cases, contacts = tmp_path / "cases.parquet", tmp_path / "contacts.parquet"
    cases.write_bytes(b"old cases")
    contacts.write_bytes(b"old contacts")
    written: list[bytes] = []
    real = Path.write_bytes

    def stopped_at_the_second(self: Path, content: bytes) -> int:
        written.append(content)
        if len(written) == 2:
            raise KeyboardInterrupt  # Ctrl-C while writing the second table
        return real(self, content)

    monkeypatch.setattr(Path, "write_bytes", stopped_at_the_second)
    with pytest.raises(KeyboardInterrupt):
        write_all_atomically({cases: b"new cases", contacts: b"new contacts"})
    monkeypatch.undo()
    assert cases.read_bytes() == b"old cases" and contacts.read_bytes() == b"old contacts"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases.parquet", "contacts.parquet"]
    write_all_atomically({cases: b"new cases", contacts: b"new contacts"})
    assert cases.read_bytes() == b"new cases" and contacts.read_bytes() == b"new contacts"


def test_compact_json_is_the_text_json_dumps_writes() -> None:
    """Stored reasons, steps and changes keep their bytes (a list's checksum reads them)."""
    value = [
        {"feature": "contacts_90d", "value": 8.0, "contribution": 0.3100715129367628},
        {"since": "2024-12-30", "new": False, "delta": {"escalation": 1e-06}, "n": None},
        {"unit": "县信访局", "text": '引号"与\\反斜杠\n换行'},
    ]
    expected = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert compact_json(value) == expected
    assert compact_json([]) == "[]"
