"""API keys on the command line: create (shown once), list (prefixes only), revoke.

The store (SQLAlchemy) is imported when a command runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from earlywarn.commands.app import app
from earlywarn.serving.roles import Role

if TYPE_CHECKING:
    from earlywarn.settings import Settings

keys_app = typer.Typer(help="API 密钥 / API keys: create, list and revoke.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    ctx: typer.Context,
    role: Annotated[Role, typer.Option(help="角色 / case_system, office, analyst or admin")],
    county: Annotated[str | None, typer.Option(help="县区代码 / Required for office keys.")] = None,
    label: Annotated[str | None, typer.Option(help="备注 / Who or what the key is for.")] = None,
) -> None:
    """创建密钥 / Create an API key; it is shown once, only its hash is kept."""
    new_key(ctx.obj, role, county, label)


def new_key(settings: Settings, role: Role, county: str | None, label: str | None) -> None:
    """Create a key and print it once."""
    from earlywarn.serving.access import create_key
    from earlywarn.serving.audit import audit, audit_key
    from earlywarn.serving.store import open_store

    try:
        with open_store(settings).begin() as session:
            new = create_key(session, role, county, label)
            audit(session, audit_key(settings, session), "command line", "keys.create",
                  new.key.prefix, 1, f"{role.value} {county or '-'}")  # fmt: skip
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--county") from error
    typer.echo(new.token)
    typer.echo(
        f"role {role.value}, county {county or '-'}: keep this key; it cannot be shown again",
        err=True,
    )
    if county and not _county_listed(settings, county):
        typer.echo(
            f"warning 警告: no stored list holds a case of county {county}: is the code the "
            "one the case system writes? (已保存的清单中没有该县区的事项，请核对代码) "
            "The key sees nothing until a list does; `earlywarn keys revoke` ends it.",
            err=True,
        )


def _county_listed(settings: Settings, county: str) -> bool:
    """Whether a stored list holds the county, or no list is stored yet to tell."""
    from sqlalchemy import exists, select

    from earlywarn.serving.store import RiskListItem, open_store

    with open_store(settings)() as session:
        if not session.scalar(select(exists().where(RiskListItem.id.is_not(None)))):
            return True
        return bool(session.scalar(select(exists().where(RiskListItem.county_code == county))))


@keys_app.command("list")
def keys_list(ctx: typer.Context) -> None:
    """列出密钥 / List keys (prefixes only)."""
    from sqlalchemy import select

    from earlywarn.serving.store import ApiKey, open_store

    settings: Settings = ctx.obj
    with open_store(settings)() as session:
        for key in session.scalars(select(ApiKey).order_by(ApiKey.id)):
            state = "revoked" if key.revoked_at else "active"
            county = key.county_code or "-"
            typer.echo(f"{key.prefix}…  {key.role:<12} {county:<10} {state}  {key.label or ''}")


@keys_app.command("revoke")
def keys_revoke(
    ctx: typer.Context,
    prefix: Annotated[
        str, typer.Argument(help="密钥前缀 / The key's prefix, as `keys list` shows it.")
    ],
) -> None:
    """吊销密钥 / Revoke a key, for the API and the page: refused from the next call
    (a running service may hold a shown key for `key_cache_seconds`, 5 s by default)."""
    from sqlalchemy import select

    from earlywarn.serving.access import PREFIX_CHARS
    from earlywarn.serving.audit import audit, audit_key
    from earlywarn.serving.store import ApiKey, open_store, utc_now

    settings: Settings = ctx.obj
    # As `keys list` shows it, or longer (the whole key pasted): the stored prefix is its
    # first PREFIX_CHARS characters.
    prefix = prefix.strip().removesuffix("…").removesuffix("...")[:PREFIX_CHARS]
    with open_store(settings).begin() as session:
        found = list(session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)))
        if len(found) != 1:
            typer.echo(
                f"error 错误: {len(found)} keys have the prefix {prefix!r}"
                + ("; `earlywarn keys list` shows every key's prefix" if not found else ""),
                err=True,
            )
            raise typer.Exit(1)
        key = found[0]
        already = key.revoked_at is not None
        if not already:
            key.revoked_at = utc_now()
            key_of_chain = audit_key(settings, session)
            audit(session, key_of_chain, "command line", "keys.revoke", prefix, 1, "ok")
    said = "already revoked 此前已吊销" if already else "revoked 已吊销"
    typer.echo(f"{said}: {prefix}… ({key.role}, county {key.county_code or '-'})")
