"""The `joinedup` command. Thin: each command parses its options and calls a service."""

from __future__ import annotations

import ipaddress
import os
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from joinedup.access.accounts.cli import accounts_app, clients_app
from joinedup.access.audit.cli import audit_app
from joinedup.identity.command import identity_app, link_after_load
from joinedup.settings import Settings
from joinedup.synth.command import synth

app = typer.Typer(
    help="JoinedUp: integrated health and social care records for a place.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(accounts_app, name="accounts")
app.add_typer(clients_app, name="clients")
app.add_typer(identity_app, name="identity")
console = Console(stderr=True)


def fail(message: str, code: int = 2) -> None:
    """One line on stderr and a non-zero exit: how every command reports bad input."""
    console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision")] = "head") -> None:
    """Apply the schema migrations to the configured database (JOINEDUP_DATABASE_URL)."""
    from joinedup.store.migrate import upgrade

    settings = Settings()
    upgrade(settings.database_url, revision)
    console.print(f"Database at revision {revision}.")


@app.command("load")
def load(
    paths: Annotated[list[Path], typer.Argument(help="Bundle .json files, .ndjson files, or folders of them")],
    workers: Annotated[int, typer.Option(help="Processes that validate and index in parallel")] = 2,
) -> None:
    """Load FHIR Bundles and bulk ndjson into the store: idempotent, resumable, rejects reported at the end."""
    from joinedup.store.bulk_load import Loader, discover
    from joinedup.store.engine import make_engine
    from joinedup.store.fhir_store import FhirStore
    from joinedup.store.migrate import upgrade

    settings = Settings()
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        fail(f"no such file or folder: {', '.join(missing)}")
    upgrade(settings.database_url)
    files = discover(paths)
    total = sum(p.stat().st_size for p in files)
    store = FhirStore(make_engine(settings.database_url))
    columns = (TextColumn("[bold]Loading"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("load", total=total)
        report = Loader(store, workers=workers).load(files, lambda done: progress.advance(task, done))
    store.engine.dispose()
    console.print(
        f"Loaded {report.files} files: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged, {len(report.rejected)} rejected."
    )
    if report.created or report.updated:
        link_after_load(settings, console)  # the person index places the newly loaded Patients
    for reject in report.rejected:
        console.print(f"  rejected {reject.where}: {reject.reason}", highlight=False, soft_wrap=True)
    if report.rejected:
        raise typer.Exit(1)


def is_loopback(host: str) -> bool:
    """Only this machine can reach a server listening here: 'localhost' or a loopback IP (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any address


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default from settings: 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000)")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Server processes (default: 2, or 1 on a single CPU)", show_default=False)
    ] = None,
) -> None:
    """Serve the web app and the FHIR API."""
    import uvicorn

    from joinedup.store.migrate import upgrade

    settings = Settings()
    address = host or settings.host
    loopback = is_loopback(address)
    if not loopback and settings.environment != "production":
        fail(f"the {settings.environment} environment is served on a loopback address only (127.0.0.1, ::1), not "
             f"{address}: set JOINEDUP_ENVIRONMENT=production to serve elsewhere")  # fmt: skip
    # The worker processes build their app from the environment: tell them whether one-click demo sign-in is safe
    os.environ["JOINEDUP_SERVED_ON_LOOPBACK"] = "true" if loopback else "false"
    upgrade(settings.database_url)
    if workers is None:
        # One process runs Python on one core at a time: two served about 1.7x the reads of one on the 2-core
        # benchmark machine, on both databases (decision 0009). Not more by default: each process may hold up to
        # 40 database connections (store/engine.py), and PostgreSQL allows 100 unless configured otherwise.
        workers = min(2, os.cpu_count() or 1)
    uvicorn.run(
        "joinedup.app:create_app",
        factory=True,
        host=address,
        port=port or settings.port,
        workers=workers,
        log_level="info",
        access_log=False,
    )


@app.command("demo")
def demo(
    people: Annotated[int | None, typer.Option(help="Residents in the demo place (default 2,000)")] = None,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve once loaded")] = True,
) -> None:
    """Build the demo place, load it and serve it on http://127.0.0.1:8000."""
    from joinedup.demo import build_demo

    settings = Settings()
    build_demo(settings, people or settings.demo_people, console)
    if serve_after:
        console.print(f"Serving JoinedUp on {settings.base_url} (FHIR API at {settings.fhir_base}).")
        serve(None, None, 1)


app.command("synth")(synth)


def main() -> None:
    """The console entry point: expected failures become one line on stderr and a non-zero exit."""
    from sqlalchemy.exc import ArgumentError, OperationalError

    from joinedup.fhir.errors import FhirError

    try:
        app()
    except (ArgumentError, OperationalError) as error:
        console.print(
            f"[red]error:[/red] the database could not be used: {str(error).splitlines()[0]}",
            highlight=False,
            soft_wrap=True,
        )
        raise SystemExit(2) from None
    except (FhirError, FileNotFoundError, PermissionError) as error:
        console.print(f"[red]error:[/red] {error}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None


@app.command("population")
def population(
    action: Annotated[str, typer.Argument(help="refresh")],
    out: Annotated[Path, typer.Option(help="DuckDB file the analytic tables are written to")] = Path(
        "var/population.duckdb"
    ),
    ndjson: Annotated[Path | None, typer.Option(help="Read bulk ndjson from this folder instead of the store")] = None,
    index_date: Annotated[str, typer.Option(help="Index date (YYYY-MM-DD) the scores and risk are for")] = "2024-12-31",
    truth: Annotated[Path | None, typer.Option(help="A synthetic place's truth/ folder, to measure the model")] = None,
    history_quarters: Annotated[
        int, typer.Option(min=0, max=40, help="Also score the N quarter ends before the index date (trends)")
    ] = 0,
) -> None:
    """Population health: views, scores, risk model, segments and case-finding lists into a DuckDB file."""
    from joinedup.population.command import run_refresh

    if action != "refresh":
        fail(f"unknown action {action!r}: use refresh")
    try:
        date.fromisoformat(index_date)
    except ValueError:
        fail(f"index date {index_date!r} is not a date (YYYY-MM-DD)")
    run_refresh(Settings(), out, ndjson, index_date, truth, console, history_quarters)
