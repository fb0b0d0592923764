"""What every file people open must respect (the ledger, the quarantine files): no cell a
spreadsheet would run as a formula; and identifiers that could not be one."""

from __future__ import annotations

import re

import polars as pl

# A spreadsheet reads a cell that starts with one of these as a formula (OWASP's
# CSV-injection rule); a case system's export may carry any text in a code column.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# An identifier or a code that a spreadsheet would run (=HYPERLINK(...), -2+3+cmd|...):
# refused where it is read, so that files written for machines (the score file, the
# features), which keep identifiers exactly, never carry one. A "-" alone or before a
# number ("-1", a system's "none") is a value, not a formula; blanks (a tab alone) are
# missing values, said as such.
FORMULA_LIKE = r"^(?:[=+@]|[\t\r]\s*\S|-.*[^0-9.])"


def neutralised(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells that a spreadsheet would run as a formula, prefixed with ``'``."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    starts = "^[" + "".join(re.escape(c) for c in FORMULA_STARTS) + "]"
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(starts))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in text
    )
