"""The store on the command line: copy it to another database (SQLite to PostgreSQL).

The store (SQLAlchemy) is imported when a command runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from earlywarn.commands.app import app

if TYPE_CHECKING:
    from earlywarn.settings import Settings

store_app = typer.Typer(
    help="数据库 / The store: copy it to another database.", no_args_is_help=True
)
app.add_typer(store_app, name="store")


@store_app.command("copy")
def store_copy(
    ctx: typer.Context,
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="新数据库 / The new store's URL: postgresql+psycopg://user@host/db, empty.",
        ),
    ],
) -> None:
    """复制数据库 / Copy the store (lists, reviews, keys, monitoring, nightly runs, the
    audit chain) into an empty database, ids and all, and check the chain there.

    Stop the service and the nightly timer first; afterwards set database_url to the
    new URL. Web sessions are not copied: reviewers sign in again.
    """
    from earlywarn.ingest.sources import shown_source
    from earlywarn.serving.audit import anchor_file, audit_key, verify_chain
    from earlywarn.serving.store import open_store
    from earlywarn.serving.store_copy import copy_store
    from earlywarn.serving.store_open import StoreError

    settings: Settings = ctx.obj
    with open_store(settings)() as source:
        key = audit_key(settings, source)
        try:
            copied = copy_store(source, to, settings.database_busy_seconds)
        except StoreError as error:
            typer.echo(f"error 错误: {error}", err=True)
            raise typer.Exit(1) from error
    moved = settings.model_copy(update={"database_url": to})
    with open_store(moved)() as target:
        check = verify_chain(target, key, anchor_file(settings))
    for table, rows in copied.counts.items():
        typer.echo(f"  {table}: {rows:,}")
    if not check.ok:
        typer.echo(f"BROKEN 已被篡改: the copied chain at record {check.first_broken}: "
                   f"{check.problem}", err=True)  # fmt: skip
        raise typer.Exit(1)
    typer.echo(
        f"Copied 已复制 -> {shown_source(to)}; audit chain intact ({check.records:,} records). "
        "Set database_url (EARLYWARN_DATABASE_URL) to it, then start the service again "
        "(请将 database_url 设为新数据库后重新启动服务)"
    )
