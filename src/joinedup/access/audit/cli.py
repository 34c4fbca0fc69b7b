"""`joinedup audit verify` and `joinedup audit export`: one-line results, non-zero exit when the chain is broken."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console

from joinedup.settings import Settings

audit_app = typer.Typer(
    help="The audit trail: verify its hash chain, export it as FHIR AuditEvent.", no_args_is_help=True
)
console = Console(stderr=True)


@audit_app.command("verify")
def verify_command() -> None:
    """Check every entry of the audit trail: altered, inserted or removed entries fail with exit code 1."""
    from joinedup.store.engine import make_engine

    from .verify import verify

    engine = make_engine(Settings().database_url)
    try:
        verdict = verify(engine)
    finally:
        engine.dispose()
    if not verdict.ok:
        console.print(f"[red]error:[/red] {verdict.message}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    console.print(verdict.message, highlight=False)


@audit_app.command("export")
def export_command(
    out: Annotated[Path, typer.Option(help="ndjson file to write the AuditEvent resources to")],
    patient: Annotated[str | None, typer.Option(help="Only entries about this Patient id")] = None,
) -> None:
    """Write the audit trail (or one person's part of it) as FHIR AuditEvent ndjson."""
    from joinedup.store.engine import make_engine

    from .audit_event import audit_event
    from .trail import AuditTrail

    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        trail = AuditTrail(engine)
        entries = trail.about_patient(patient, limit=1_000_000) if patient else trail.entries()
        with out.open("wb") as handle:
            for entry in entries:
                handle.write(orjson.dumps(audit_event(entry, settings.fhir_base)) + b"\n")
    finally:
        engine.dispose()
    console.print(f"{len(entries)} AuditEvent resources written to {out}", highlight=False)
