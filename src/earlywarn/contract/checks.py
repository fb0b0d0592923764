"""Check every value of a table against the contract and convert it to its type.

Each column yields a parsed value and, per row, a problem code (null when the
value is fine). Everything is a Polars expression, so a table of ten million
rows is checked column-parallel without a Python loop over rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from earlywarn.contract.cells import FORMULA_LIKE
from earlywarn.contract.csv_lines import LINE
from earlywarn.contract.personal import (
    echoed_expr,
    may_hold_personal_data,
    may_need_redaction,
    personal_data_code,
    redact_expr,
)
from earlywarn.contract.read import RawTable
from earlywarn.contract.report import Severity, empty_issues, issue_frame
from earlywarn.contract.spec import ACTION_OUTCOMES, Column, Kind, Table
from earlywarn.contract.timestamps import TIMESTAMP, canonical_timestamp, parse_timestamp

_DETAIL_CHARS = 40
# Where a unit is named: a person's name typed there (the handler's) is personal data.
UNITS = ("responsible_unit", "unit")
# The petitioner's pseudonym: words, an e-mail, a landline or an ID of any check character
# are personal data there (personal.py).
PERSON_ID = "petitioner_id"
_INT32_MAX = 2**31 - 1  # the loaded tables hold counts as Int32
_MASKED = "[已屏蔽 masked]"
_PROBLEM = "_problem_"
_ORIGINAL = "_original"


def value_dtype(column: Column) -> pl.DataType:
    """The Polars type of a column in the tables the loader returns."""
    if column.kind is Kind.TIMESTAMP:
        return TIMESTAMP
    if column.kind is Kind.ENUM:
        return pl.Enum(list(column.values))
    if column.kind is Kind.POSITIVE_INT:
        return pl.Int32()
    return pl.String()


@dataclass
class CheckedTable:
    """Parsed values, per-row problem codes and the warnings counted over the table."""

    frame: pl.DataFrame  # LINE, parsed columns, one problem column per contract column
    warnings: pl.DataFrame


def problem_column(name: str) -> str:
    return f"{_PROBLEM}{name}"


def original_column(name: str) -> str:
    return f"{name}{_ORIGINAL}"


def check_values(raw: RawTable) -> CheckedTable:
    """Parse every contract column of ``raw`` and mark each problem where it is."""
    frame = raw.frame
    for column in raw.table.columns:
        if column.name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(column.name))
    originals = [pl.col(c.name).alias(original_column(c.name)) for c in raw.table.columns]
    parsed: list[pl.Expr] = []
    problems: list[pl.Expr] = []
    suspects: list[pl.Expr] = []
    for column in raw.table.columns:
        value, problem, suspect = _check_column(column, frame.schema[column.name])
        parsed.append(value.alias(column.name))
        problems.append(problem.alias(problem_column(column.name)))
        if suspect is not None:
            suspects.append(suspect.alias(_suspect_column(column.name)))
    checked = frame.select(LINE, *originals, *problems, *parsed, *suspects)
    checked = _check_suspects(raw.table, checked)
    warnings = _count_warnings(raw, checked)
    checked = _apply_fallbacks(raw.table, checked)
    if raw.table.name == "actions":
        checked = checked.with_columns(_outcome_problem().alias(problem_column("outcome")))
    return CheckedTable(checked, warnings)


def _suspect_column(name: str) -> str:
    return f"_suspect_{name}"


def _check_column(column: Column, dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr, pl.Expr | None]:
    """(parsed value, problem code, rows needing the slow checks) for one column."""
    raw = pl.col(column.name)
    missing = raw.is_null()
    if dtype == pl.String:
        # Blank-but-not-empty identifiers are caught with the suspects below;
        # other kinds fail their own parse, so this stays cheap.
        missing = missing | (raw.str.len_bytes() == 0)
    suspect: pl.Expr | None = None
    problem = pl.lit(None, dtype=pl.String)
    if column.kind in (Kind.IDENTIFIER, Kind.CODE):
        value = raw.cast(pl.String)  # a Parquet file may hold numbers: read as their text
        # A value a spreadsheet would run is rare: found among the suspects too.
        suspect = may_hold_personal_data(
            value,
            check_names=column.kind is Kind.IDENTIFIER,
            unit_names=column.name in UNITS,
            person_id=column.name == PERSON_ID,
            also=FORMULA_LIKE,
        )
    elif column.kind is Kind.TIMESTAMP and dtype == pl.String:
        # Most exports write one canonical form: parse that fast, the rest exactly
        # on the few rows that need it (see _check_suspects).
        value = canonical_timestamp(raw)
        suspect = value.is_null() & ~missing
    elif column.kind is Kind.TIMESTAMP:
        value = parse_timestamp(raw, dtype)
        problem = pl.when(value.is_null()).then(pl.lit("bad_timestamp"))
    elif column.kind is Kind.ENUM:
        value = raw.cast(pl.String)
        allowed = value.is_in(list(column.values))
        problem = pl.when(~allowed & pl.lit(column.fallback is None)).then(pl.lit("bad_enum"))
    elif column.kind is Kind.POSITIVE_INT:
        value = _parse_integer(raw, dtype)
        problem = (
            pl.when(value.is_null())
            .then(pl.lit("bad_integer"))
            .when(value < 1)
            .then(pl.lit("below_minimum"))
            .when(value > _INT32_MAX)
            .then(pl.lit("above_maximum"))
        )
    else:
        value = raw.cast(pl.String)
        suspect = may_need_redaction(value)  # whatever type a file gave the text
    if column.required:
        problem = pl.when(missing).then(pl.lit("missing_value")).otherwise(problem)
    else:
        problem = pl.when(missing).then(pl.lit(None, dtype=pl.String)).otherwise(problem)
    if suspect is not None:
        suspect = suspect.fill_null(False)
    return value, problem.cast(pl.String), suspect


def _check_suspects(table: Table, checked: pl.DataFrame) -> pl.DataFrame:
    """Run the slow exact work on the few rows that need it.

    Personal-data checks on identifiers, redaction of free text, and the full
    ISO 8601 parse of timestamps not written in the canonical form.
    """
    updates = []
    for column in table.columns:
        suspect_name = _suspect_column(column.name)
        if suspect_name not in checked.columns:
            continue
        rows = checked.get_column(suspect_name).arg_true()
        if not rows.len():
            continue
        original = pl.col(original_column(column.name))
        if column.kind is not Kind.TIMESTAMP:
            original = original.cast(pl.String)
        subset = checked.select(original.gather(rows).alias(column.name))
        current = checked.get_column(problem_column(column.name))
        if column.kind is Kind.TIMESTAMP:
            parsed = subset.select(parse_timestamp(pl.col(column.name), pl.String())).to_series()
            updates.append(checked.get_column(column.name).scatter(rows, parsed))
            codes = pl.select(pl.when(parsed.is_null()).then(pl.lit("bad_timestamp"))).to_series()
            updates.append(current.scatter(rows, codes))
            continue
        if column.kind is Kind.FREE_TEXT:
            redacted = subset.select(redact_expr(column.name)).to_series()
            updates.append(checked.get_column(column.name).scatter(rows, redacted))
            continue
        personal = personal_data_code(
            column.name,
            check_names=column.kind is Kind.IDENTIFIER,
            unit_names=column.name in UNITS,
            person_id=column.name == PERSON_ID,
        )
        written = pl.col(column.name)
        missing = pl.lit("missing_value") if column.required else pl.lit(None, dtype=pl.String)
        codes = subset.select(
            pl.when(written.str.contains(r"^\s+$"))
            .then(missing)
            .when(written.str.contains(FORMULA_LIKE))
            .then(pl.lit("formula_like"))
            .otherwise(personal)
        ).to_series()
        merged = current.gather(rows).fill_null(codes)
        updates.append(current.scatter(rows, merged))
    return checked.with_columns(updates).drop(
        [name for name in checked.columns if name.startswith("_suspect_")]
    )


def _parse_integer(raw: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if dtype.is_integer():
        return raw.cast(pl.Int64, strict=False)
    if dtype.is_float():
        whole = raw.is_not_nan() & (raw == raw.floor())
        return pl.when(whole).then(raw.cast(pl.Int64, strict=False))
    text = raw.cast(pl.String).str.strip_chars()
    return pl.when(text.str.contains(r"^[+-]?\d{1,9}$")).then(text.cast(pl.Int64, strict=False))


def _outcome_problem() -> pl.Expr:
    """An outcome is allowed only for the action types that name it."""
    pair = pl.concat_str([pl.col("action_type").cast(pl.String), pl.col("outcome")], separator="|")
    allowed = [
        f"{kind}|{outcome}" for kind, outcomes in ACTION_OUTCOMES.items() for outcome in outcomes
    ]
    wrong_pair = (
        pl.col("outcome").is_not_null()
        & pl.col(problem_column("outcome")).is_null()
        & pl.col(problem_column("action_type")).is_null()
        & ~pair.is_in(allowed)
    )
    return (
        pl.when(wrong_pair)
        .then(pl.lit("outcome_not_allowed"))
        .otherwise(pl.col(problem_column("outcome")))
    )


def _count_warnings(raw: RawTable, checked: pl.DataFrame) -> pl.DataFrame:
    """Warnings counted over the whole table: unknown codes replaced, text redacted."""
    warnings: list[dict[str, object]] = []
    for column in raw.table.columns:
        if column.fallback is not None:
            unknown = checked.filter(
                pl.col(problem_column(column.name)).is_null()
                & ~pl.col(column.name).is_in(list(column.values))
            )
            if unknown.height:
                codes = (
                    unknown.select(echoed_expr(column.name))
                    .to_series()
                    .unique()
                    .sort()
                    .head(10)
                    .to_list()
                )
                warnings.append(
                    {
                        "severity": Severity.WARNING.value,
                        "file": raw.path.name,
                        "column": column.name,
                        "code": "unknown_category",
                        "detail": "codes " + ", ".join(repr(code) for code in codes),
                        "count": unknown.height,
                    }
                )
        if column.kind is Kind.FREE_TEXT:
            before = pl.col(original_column(column.name)).cast(pl.String)
            changed = checked.select((pl.col(column.name) != before).sum()).item() or 0
            if changed:
                warnings.append(
                    {
                        "severity": Severity.WARNING.value,
                        "file": raw.path.name,
                        "column": column.name,
                        "code": "summary_redacted",
                        "count": int(changed),
                    }
                )
    return issue_frame(warnings) if warnings else empty_issues()


def _apply_fallbacks(table: Table, checked: pl.DataFrame) -> pl.DataFrame:
    replacements = [
        pl.when(pl.col(c.name).is_in(list(c.values)) | pl.col(c.name).is_null())
        .then(pl.col(c.name))
        .otherwise(pl.lit(c.fallback))
        .alias(c.name)
        for c in table.columns
        if c.fallback is not None
    ]
    return checked.with_columns(replacements) if replacements else checked


def row_issues(table: Table, file: str, checked: pl.DataFrame) -> pl.DataFrame:
    """One issue row per (row, column) problem, in file order."""
    parts = []
    for column in table.columns:
        code = pl.col(problem_column(column.name))
        bad = checked.filter(code.is_not_null())
        if not bad.height:
            continue
        parts.append(
            bad.select(
                pl.lit(Severity.ERROR.value).alias("severity"),
                pl.lit(file).alias("file"),
                pl.col(LINE).alias("line"),
                pl.lit(column.name).alias("column"),
                code.alias("code"),
                _detail(column.name, code).alias("detail"),
                pl.lit(1, dtype=pl.Int64).alias("count"),
            )
        )
    if not parts:
        return empty_issues()
    return pl.concat(parts).sort("line", "column")


def _detail(name: str, code: pl.Expr) -> pl.Expr:
    """The offending value as written, never echoing personal data (ID and phone numbers
    redacted in any column: a timestamp column may hold a mobile number; a name alone
    masked)."""
    original = echoed_expr(pl.col(original_column(name)).cast(pl.String))
    shown = (
        pl.when(original.str.len_chars() > _DETAIL_CHARS)
        .then(original.str.slice(0, _DETAIL_CHARS) + "…")
        .otherwise(original)
    )
    return (
        pl.when(code.str.starts_with("personal_"))
        .then(pl.lit(_MASKED))
        .when(code == "missing_value")
        .then(pl.lit(""))
        .otherwise(pl.lit("'") + shown + pl.lit("'"))
    )
