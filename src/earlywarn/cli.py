"""The ``earlywarn`` command: the Typer application of ``commands/``, whose commands are
imported when they are run (``commands/app.py``)."""

from __future__ import annotations

from earlywarn.commands.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    app()
