"""`joinedup audit verify`, `checkpoint`, `rotate-key` and `export`: one-line results, non-zero exit when the chain
is broken (decision 0312)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import orjson
import typer
from rich.console import Console
from rich.progress import Progress

from joinedup.settings import Settings

audit_app = typer.Typer(
    help="The audit trail: verify its keyed chain, sign checkpoints, rotate its key, export it as FHIR AuditEvent.",
    no_args_is_help=True,
)
console = Console(stderr=True)


@audit_app.command("verify")
def verify_command(
    key_file: Annotated[
        Path | None, typer.Option(help="The audit keyring (default: the setting audit_key_file)")
    ] = None,
    checkpoints: Annotated[
        Path | None, typer.Option(help="Signed checkpoints to check (default: the setting audit_checkpoint_file)")
    ] = None,
    public_key: Annotated[
        Path | None, typer.Option(help="The checkpoints' Ed25519 public key (default: beside the signing key, .pub)")
    ] = None,
) -> None:
    """Check every entry of the audit trail with its keys, its people index and every signed checkpoint: altered,
    inserted, removed, reordered or rehashed entries, and entries cut off below a checkpoint, fail with exit 1."""
    from joinedup.store.engine import make_engine

    from .checkpoints import CheckpointError, load_public_key, public_key_file, read_checkpoints
    from .keys import KeyringError, read_keyring
    from .verify import verify

    settings = Settings()
    checkpoint_file = checkpoints or settings.audit_checkpoint_file
    try:
        keyring = read_keyring(key_file or settings.audit_key_file)
        signed = []
        if checkpoint_file.exists():
            verifier = load_public_key(public_key or public_key_file(settings.audit_signing_key_file))
            signed = read_checkpoints(checkpoint_file, verifier)
        elif checkpoints is not None:
            raise CheckpointError(f"no checkpoint file at {checkpoint_file}")
    except (KeyringError, CheckpointError) as error:
        _fail(str(error))
    engine = make_engine(settings.database_url)
    try:
        if console.is_terminal:  # a bar for a person watching; nothing extra in a log or a pipe
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("Verifying the audit trail", total=None)
                verdict = verify(
                    engine, keyring, signed, lambda done, total: progress.update(task, completed=done, total=total)
                )
        else:
            verdict = verify(engine, keyring, signed)
    finally:
        engine.dispose()
    if not verdict.ok:
        _fail(verdict.message)
    console.print(verdict.message, highlight=False)


@audit_app.command("checkpoint")
def checkpoint_command(
    out: Annotated[
        Path | None, typer.Option(help="File to append the checkpoint to (default: the setting audit_checkpoint_file)")
    ] = None,
    to_file: Annotated[bool, typer.Option("--to-file/--no-file", help="Append it to the checkpoint file")] = True,
    stdout: Annotated[bool, typer.Option("--stdout", help="Also print it, for an operator to keep elsewhere")] = False,
) -> None:
    """Sign the audit trail's head (its entry number and hash) with the Ed25519 signing key, outside the database."""
    from joinedup.store.engine import make_engine

    from .checkpoints import CheckpointError, append_checkpoint, load_signing_key, make_checkpoint

    settings = Settings()
    try:
        signing_key = load_signing_key(settings.audit_signing_key_file)
    except CheckpointError as error:
        _fail(str(error))
    engine = make_engine(settings.database_url)
    try:
        checkpoint = make_checkpoint(engine, signing_key)
    finally:
        engine.dispose()
    target = out or settings.audit_checkpoint_file
    if to_file:
        append_checkpoint(target, checkpoint)
    if stdout:
        typer.echo(checkpoint.line().decode())
    where = f" to {target}" if to_file else ""
    console.print(f"checkpoint of audit entry {checkpoint.seq} signed{where}", highlight=False)


@audit_app.command("rotate-key")
def rotate_key_command(
    key_file: Annotated[
        Path | None, typer.Option(help="The audit keyring (default: the setting audit_key_file)")
    ] = None,
) -> None:
    """Add a fresh key to the audit keyring and make it current (servers sign with it from their next start); the
    old keys stay so that the entries they signed still verify."""
    from .keys import KeyringError, rotate

    settings = Settings()
    if settings.audit_key:
        _fail("JOINEDUP_AUDIT_KEY is set: rotate by changing it (the keyring keeps the old one)")
    try:
        keyring = rotate(key_file or settings.audit_key_file)
    except KeyringError as error:
        _fail(str(error))
    console.print(f"audit key {keyring.current} is now current ({len(keyring.keys)} keys kept)", highlight=False)


def _fail(message: str) -> NoReturn:
    console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


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
