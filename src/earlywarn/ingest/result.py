"""What an import did, kept beside the dataset it wrote (``import-report.json``): the
sources read, the rows of each table, and what could not be mapped. The monitoring's
data-quality checks read it (a new name for a category, a renamed column)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from earlywarn.contract import Dataset
from earlywarn.ingest.merge import MergeCounts
from earlywarn.ingest.vocabulary import is_personal_header


@dataclass
class ImportResult:
    dataset: Dataset
    sources: list[tuple[str, str, int, str | None]]  # origin, table, rows, encoding
    unmapped_headers: dict[str, list[str]] = field(default_factory=dict)  # origin -> headers
    unmapped_values: dict[tuple[str, str], int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    merged: dict[str, MergeCounts] = field(default_factory=dict)  # per table
    emptied: list[str] = field(default_factory=list)  # "table.column": values the merge cleared
    kept: list[str] = field(default_factory=list)  # columns the export lacks: values kept
    skipped: list[str] = field(default_factory=list)  # sheets without a table, and why
    # Per source: blank and total rows left out (they hold no record, so they are not
    # rows read; said here so that every row of the file is accounted for).
    left_out: dict[str, int] = field(default_factory=dict)

    def personal_headers(self) -> list[str]:
        """The headers not read that name a person's data, once each."""
        found = (h for headers in self.unmapped_headers.values() for h in headers)
        return list(dict.fromkeys(h for h in found if is_personal_header(h)))


IMPORT_REPORT = "import-report.json"


def write_import_report(result: ImportResult, out: Path) -> Path:
    """What the last import read and could not map, beside the dataset it wrote: the
    monitoring's data-quality checks read it (a new name for a category, a renamed column)."""
    report = {
        "imported_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "rows": sum(rows for _, _, rows, _ in result.sources),
        "sources": [
            {"origin": origin, "table": table, "rows": rows, "encoding": encoding}
            for origin, table, rows, encoding in result.sources
        ],
        "tables": {
            summary.table: {"read": summary.rows_read, "quarantined": summary.rows_quarantined}
            | (vars(result.merged[summary.table]) if summary.table in result.merged else {})
            for summary in result.dataset.report.tables
        },
        "unmapped_headers": result.unmapped_headers,
        "columns_emptied": result.emptied,
        "columns_missing_values_kept": result.kept,
        "unmapped_values": [
            {"column": column, "value": value, "rows": count}
            for (column, value), count in sorted(result.unmapped_values.items())
        ],
    }
    path = out / IMPORT_REPORT
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return path
