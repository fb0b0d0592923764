"""The ``earlywarn`` command: the Typer application of ``commands/``, whose commands are
imported when they are run (``commands/app.py``)."""

from __future__ import annotations

from earlywarn.commands.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point. An error any command may meet deep in a step (the
    audit key lost, a store that cannot be opened) is said in one line, not a
    traceback."""
    try:
        app()
    except SystemExit as stop:
        from earlywarn.commands.interruption import say_unless_said

        say_unless_said(stop.code)
        raise
    except Exception as error:
        import sys

        from earlywarn.serving.audit import AuditKeyMissingError  # only when something failed
        from earlywarn.serving.store_open import StoreError

        if isinstance(error, StoreError):  # the store's URL, server or rights: one line
            print(f"error 错误: {error}", file=sys.stderr)
            sys.exit(1)
        if not isinstance(error, AuditKeyMissingError):
            raise
        print(f"error 错误: {error}", file=sys.stderr)
        sys.exit(2)
