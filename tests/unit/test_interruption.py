"""Ctrl-C is said: Typer turned it into exit 130 without a word (an interrupted import
looked like a finished one that printed nothing)."""

from __future__ import annotations

import pytest
import typer

from earlywarn import cli
from earlywarn.commands import interruption


def _stopped_app() -> typer.Typer:
    stopped = typer.Typer()

    @stopped.command()
    def work() -> None:
        raise KeyboardInterrupt

    return stopped


def test_an_interrupted_command_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(interruption, "_said", False)
    monkeypatch.setattr(cli, "app", _stopped_app())
    monkeypatch.setattr("sys.argv", ["earlywarn"])
    with pytest.raises(SystemExit) as stop:
        cli.main()
    assert stop.value.code == interruption.INTERRUPTED
    assert capsys.readouterr().err.count("interrupted 已中断") == 1


def test_a_command_that_says_its_own_words_is_not_repeated(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(interruption, "_said", False)
    interruption.say_interrupted("interrupted 已中断: daily run for 2024-12-31: run it again")
    interruption.say_unless_said(interruption.INTERRUPTED)
    interruption.say_unless_said(0)
    assert capsys.readouterr().err.count("interrupted 已中断") == 1


def test_an_ordinary_end_says_nothing_more(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(interruption, "_said", False)
    for code in (0, 1, 2, None):
        interruption.say_unless_said(code)
    assert capsys.readouterr().err == ""
