"""`joinedup accounts …` and `joinedup clients register`: the registration authority's tools on the command line.

Whoever can run these on the server holds the database's keys already, so the command acts as the administrator
role under its own name (`Device/joinedup-cli`), and every change is audited like one made in the pages would be.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from joinedup.settings import Settings

from ..audit.trail import Actor, AuditTrail
from ..context import AccessContext
from ..roles import catalogue
from .store import AccountStore
from .tokens import TokenService

accounts_app = typer.Typer(help="Local accounts: create, disable, enable, change role.", no_args_is_help=True)
clients_app = typer.Typer(help="API clients (OAuth2): register a system or an app.", no_args_is_help=True)
console = Console(stderr=True)
CLI_ADMINISTRATOR = AccessContext(user="Device/joinedup-cli", role="administrator", purpose="operations", via="system")


def _fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@contextmanager
def _engine() -> Iterator[Engine]:
    from joinedup.store.engine import make_engine

    engine = make_engine(Settings().database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def _known_role(role_name: str) -> None:
    if role_name not in catalogue().roles:
        _fail(f"unknown role {role_name!r}: one of {', '.join(sorted(catalogue().roles))}")


@accounts_app.command("create")
def create(
    username: Annotated[str, typer.Argument(help="Sign-in name")],
    role_name: Annotated[str, typer.Option("--role", help="A role from access/data/roles.json")],
    user_ref: Annotated[str, typer.Option("--user", help="Who they are in the record, e.g. PractitionerRole/123")],
    display_name: Annotated[str, typer.Option("--name", help="Name shown in the header")],
    organisation: Annotated[str | None, typer.Option(help="Organization/… they work for")] = None,
    organisation_name: Annotated[str | None, typer.Option(help="The organisation's name, for the header")] = None,
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="At least 12 characters")
    ] = "",
) -> None:
    """Create a local account (the password is asked for, never echoed)."""
    _known_role(role_name)
    with _engine() as engine:
        store = AccountStore(engine, AuditTrail(engine))
        if store.exists(username):
            _fail(f"an account named {username!r} already exists")
        try:
            store.create(
                username, password, display_name, user_ref, role_name, organisation, organisation_name,
                by=Actor.of(CLI_ADMINISTRATOR),
            )  # fmt: skip
        except ValueError as error:
            _fail(str(error))
    console.print(f"account {username!r} created with role {role_name}", highlight=False)


def _set_active(username: str, active: bool) -> None:
    with _engine() as engine:
        store = AccountStore(engine, AuditTrail(engine))
        if not store.exists(username):
            _fail(f"no account named {username!r}")
        store.set_active(CLI_ADMINISTRATOR, username, active)
    state = "enabled" if active else "disabled (its sessions and tokens have ended)"
    console.print(f"account {username!r} {state}", highlight=False)


@accounts_app.command("disable")
def disable(username: Annotated[str, typer.Argument(help="Sign-in name")]) -> None:
    """Disable an account: it can no longer sign in, and its sessions and tokens end at once."""
    _set_active(username, False)


@accounts_app.command("enable")
def enable(username: Annotated[str, typer.Argument(help="Sign-in name")]) -> None:
    """Enable a disabled account again."""
    _set_active(username, True)


@accounts_app.command("set-role")
def set_role(
    username: Annotated[str, typer.Argument(help="Sign-in name")],
    role_name: Annotated[str, typer.Argument(help="The new role")],
) -> None:
    """Change an account's role (a privilege change: it is signed out everywhere)."""
    _known_role(role_name)
    with _engine() as engine:
        store = AccountStore(engine, AuditTrail(engine))
        if not store.exists(username):
            _fail(f"no account named {username!r}")
        store.set_role(CLI_ADMINISTRATOR, username, role_name)
    console.print(f"account {username!r} now has role {role_name}", highlight=False)


@clients_app.command("register")
def register(
    client_id: Annotated[str, typer.Argument(help="The client's identifier")],
    role_name: Annotated[str, typer.Option("--role", help="The role a system client acts in (e.g. system)")],
    scopes: Annotated[str, typer.Option(help="SMART scopes it may be granted, e.g. 'system/*.rs' or 'user/*.rs'")],
    name: Annotated[str, typer.Option(help="Name shown on the consent page")] = "",
    organisation: Annotated[str | None, typer.Option(help="Organization/… it belongs to")] = None,
    redirect_uri: Annotated[
        list[str] | None, typer.Option(help="For apps acting for users: an exact redirect URI (repeatable)")
    ] = None,
    public: Annotated[bool, typer.Option(help="A public app (no secret: PKCE alone proves it)")] = False,
) -> None:
    """Register an API client; a confidential client's secret is printed once and only its hash is kept."""
    _known_role(role_name)
    secret = None if public else secrets.token_urlsafe(32)
    with _engine() as engine:
        try:
            TokenService(engine, AuditTrail(engine)).register_client(
                client_id, secret, name or client_id, role_name, organisation, scopes, tuple(redirect_uri or ())
            )
        except IntegrityError:
            _fail(f"a client {client_id!r} is already registered")
    console.print(f"client {client_id!r} registered", highlight=False)
    if secret is not None:
        typer.echo(f"secret (shown once): {secret}")
