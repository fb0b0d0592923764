"""What a command says when Ctrl-C stops it: Typer turns the interrupt into exit 130
without a word, and a person at the terminal cannot tell a stop from an end."""

from __future__ import annotations

import sys

INTERRUPTED = 130  # 128 + SIGINT, as shells report it
GENERIC = (
    "interrupted 已中断: the command stopped before it finished; run it again "
    "(命令未完成，请重新运行)"
)
_said = False


def say_interrupted(message: str) -> None:
    """A command's own words for its interruption; the generic line is then left out."""
    global _said
    _said = True
    print(message, file=sys.stderr)


def say_unless_said(code: object) -> None:
    """At the top, for an exit of ``code``: the generic line when an interrupt ended the
    command and the command said nothing of it."""
    if code == INTERRUPTED and not _said:
        print(GENERIC, file=sys.stderr)
