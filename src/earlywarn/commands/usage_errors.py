"""Usage errors (a bad option value, a missing option, a misspelt command) said in
Chinese as well as English: Click words them in English only, and office staff run
these commands too."""

from __future__ import annotations

import sys
from typing import Any

import typer

# Typer raises the errors of the Click it carries (typer._click from 0.22, click before):
# their module is found from the one class Typer exports, not named.
_ERRORS: Any = sys.modules[typer.BadParameter.__module__]
UsageError: type[Exception] = _ERRORS.UsageError

# Click's error classes, most specific first, and what each is in Chinese.
_KINDS: tuple[tuple[type[Exception], str], ...] = (
    (_ERRORS.MissingParameter, "缺少必需的参数"),
    (_ERRORS.NoSuchOption, "没有这个选项"),
    (_ERRORS.BadOptionUsage, "选项用法有误"),
    (_ERRORS.BadParameter, "参数的值无效"),
)


def chinese_of(error: Any) -> str:
    """The Chinese line for a usage error: what kind it is, and what to look at."""
    message = error.message
    if message.startswith("No such command"):
        return "没有这个命令（earlywarn --help 列出全部命令）"
    if "unexpected extra argument" in message:
        return "多余的参数（选项要以 -- 开头）"
    kind = next((words for cls, words in _KINDS if isinstance(error, cls)), "命令用法有误")
    if "does not match the format" in message:
        return f"{kind}：日期写作 2025-10-31（年-月-日）"
    if "greater than" in message or "less than" in message or "range" in message:
        return f"{kind}：超出允许的范围"
    if "is not one of" in message or "Input should be" in message:
        return f"{kind}：请从允许的取值中选择"
    return kind


def in_both_languages(error: Any) -> Any:
    """The same error, its Chinese line above Click's English one (once, however often
    the error passes through)."""
    if not getattr(error, "in_both_languages", False):
        english = error.format_message
        lead = chinese_of(error)
        error.format_message = lambda: f"{lead}\n{english()}"
        error.in_both_languages = True
    return error
