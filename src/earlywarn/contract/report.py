"""What validation found: problems with their place in the file, and row counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import polars as pl


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


# code -> (English, 中文). Codes are stable: tests and tools match on them.
PROBLEMS: dict[str, tuple[str, str]] = {
    "missing_file": ("required table not found", "缺少必需的数据表"),
    "both_formats": (
        "both Parquet and CSV present; Parquet used",
        "同时存在 Parquet 和 CSV，使用 Parquet",
    ),
    "not_utf8": ("file is not UTF-8", "文件不是 UTF-8 编码"),
    "empty_file": ("file is empty", "文件为空"),
    "no_rows": ("file has a header but no rows", "文件只有表头，没有数据行"),
    "unreadable": ("file cannot be read", "文件无法读取"),
    "not_a_regular_file": ("not a regular file of the dataset", "不是数据集目录中的普通文件"),
    "missing_column": ("required column missing", "缺少必需的列"),
    "repeated_column": ("the header names a column twice", "表头中有重复的列名"),
    "unclosed_quote": (
        "a quoted field is never closed; the rows after it would be read into it",
        "引号未闭合，其后的行会被并入该字段",
    ),
    "unsupported_type": (
        "column holds lists or records, not single values",
        "该列是列表或嵌套结构，不是单个取值",
    ),
    "extra_column": ("column not in the contract, ignored", "合同之外的列，已忽略"),
    "wrong_field_count": ("row has the wrong number of fields", "该行字段数与表头不符"),
    "bad_quoting": (
        "text after a field's closing quote: its fields cannot be told apart",
        "引号后还有文字，无法区分各字段",
    ),
    "excel_error": (
        "a cell shows a spreadsheet error (#N/A, #REF!...): the formula behind it failed",
        "单元格显示错误值（#N/A、#REF! 等），其公式计算失败",
    ),
    "formula_not_calculated": (
        "a formula never calculated (a workbook written by a program): open the workbook "
        "in Excel or WPS and save it",
        "公式从未计算（工作簿由程序生成）：请用 Excel 或 WPS 打开后保存",
    ),
    "merged_cells_filled": (
        "cells merged over several rows, read in each row as the range's first value",
        "合并单元格，其覆盖的各行均按合并区域首行的值读取",
    ),
    "formula_values": (
        "formula cells, read as the values saved with the workbook",
        "公式单元格，按工作簿保存的计算结果读取",
    ),
    "empty_rows": (
        "lines of separators only (no value at all), skipped",
        "仅含分隔符、没有任何值的行，已跳过",
    ),
    "missing_value": ("required value missing", "必填值缺失"),
    "bad_timestamp": (
        "not an ISO 8601 timestamp from 1900 to 2099",
        "不是 1900 至 2099 年之间的 ISO 8601 时间",
    ),
    "bad_integer": ("not a whole number", "不是整数"),
    "below_minimum": ("must be 1 or more", "必须大于等于 1"),
    "above_maximum": ("too large for a count of people", "数值过大，不可能是人数"),
    "bad_enum": ("not an allowed value", "不是允许的取值"),
    "unknown_category": ("unknown category codes read as 'other'", "未知类别代码按“其他”处理"),
    "outcome_not_allowed": ("outcome not allowed for this action type", "该办理类型不能有此结果"),
    "duplicate_key": ("duplicate key", "主键重复"),
    "unknown_case": ("case_id not found in cases", "case_id 在 cases 表中不存在"),
    "case_quarantined": ("its case was quarantined", "所属事项已被隔离"),
    "personal_id_number": (
        "looks like a resident ID number: identifiers must be pseudonyms",
        "疑似身份证号：标识必须是化名",
    ),
    "personal_mobile": (
        "looks like a mobile number: identifiers must be pseudonyms",
        "疑似手机号：标识必须是化名",
    ),
    "personal_name": (
        "looks like a personal name: identifiers must be pseudonyms",
        "疑似人名：标识必须是化名",
    ),
    "personal_contact": (
        "looks like an e-mail address or a landline number: identifiers must be pseudonyms",
        "疑似邮箱或座机号码：标识必须是化名",
    ),
    "formula_like": (
        "begins like a spreadsheet formula (= + - @): not an identifier or a code",
        "以电子表格公式字符（= + - @）开头：不是有效的标识或代码",
    ),
    "summary_redacted": (
        "summary text contained ID or phone numbers; they were redacted",
        "摘要含身份证号或电话号码，已脱敏",
    ),
    "bad_calendar": ("calendar file cannot be used", "日历文件无法使用"),
}

# Rows a reader set aside whole (their values cannot be told apart or trusted): said
# once when read, and quarantined with the rows the checks reject.
SET_ASIDE_CODES = ("wrong_field_count", "bad_quoting", "excel_error", "formula_not_calculated")

ISSUE_SCHEMA: dict[str, pl.DataType] = {
    "severity": pl.String(),
    "file": pl.String(),
    "line": pl.Int64(),
    "column": pl.String(),
    "code": pl.String(),
    "detail": pl.String(),
    "count": pl.Int64(),
}


def issue_frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    """Build an issue table from dicts with the keys of ``ISSUE_SCHEMA``."""
    filled = [{"line": None, "column": None, "detail": "", "count": 1} | row for row in rows]
    return pl.DataFrame(filled, schema=ISSUE_SCHEMA)


def empty_issues() -> pl.DataFrame:
    return pl.DataFrame(schema=ISSUE_SCHEMA)


def describe_issue(issue: dict[str, object]) -> str:
    """One line a person can act on: where, what, and the value at fault."""
    file = str(issue["file"] or "")
    where = file
    line = issue.get("line")
    if line is not None:
        unit = "row" if file.endswith(".parquet") or ", sheet " in file else "line"
        where += f", {unit} {line}"
    if issue.get("column"):
        where += f", column {issue['column']}"
    english, chinese = PROBLEMS[str(issue["code"])]
    text = f"{where}: {english} ({chinese})"
    if issue.get("detail"):
        text += f": {issue['detail']}"
    count = issue.get("count")
    if isinstance(count, int) and count > 1:
        text += f" [{count:,} rows]"
    return text


@dataclass
class TableSummary:
    """Row accounting for one table: read = kept + quarantined, always."""

    table: str
    file: str | None
    rows_read: int = 0
    rows_kept: int = 0
    rows_quarantined: int = 0
    quarantine_path: Path | None = None

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.rows_kept + self.rows_quarantined


@dataclass
class ValidationReport:
    """Everything one load found, in file order."""

    dataset: Path
    mode: str
    tables: list[TableSummary] = field(default_factory=list)
    issues: pl.DataFrame = field(default_factory=empty_issues)

    def add(self, issues: pl.DataFrame) -> None:
        if issues.height:
            self.issues = pl.concat([self.issues, issues.select(list(ISSUE_SCHEMA))])

    def _of(self, severity: Severity) -> pl.DataFrame:
        return self.issues.filter(pl.col("severity") == severity.value)

    @property
    def errors(self) -> pl.DataFrame:
        return self._of(Severity.ERROR)

    @property
    def warnings(self) -> pl.DataFrame:
        return self._of(Severity.WARNING)

    @property
    def ok(self) -> bool:
        return self.errors.height == 0

    def error_lines(self, limit: int | None = None) -> list[str]:
        ordered = self.errors.sort("file", "line", nulls_last=False, maintain_order=True)
        rows = ordered.head(limit) if limit is not None else ordered
        return [describe_issue(row) for row in rows.iter_rows(named=True)]

    def warning_lines(self) -> list[str]:
        return [describe_issue(row) for row in self.warnings.iter_rows(named=True)]


class ContractError(Exception):
    """The dataset breaks the contract; ``report`` lists every problem."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        count = report.errors.height
        first = report.error_lines(limit=1)
        super().__init__(
            f"{report.dataset}: {count:,} contract error(s); first: {first[0] if first else '-'}"
        )
