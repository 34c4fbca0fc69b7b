"""The demo place: generate a small borough (once per size and seed), migrate, load it, ready to serve."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from joinedup.settings import Settings
from joinedup.store.bulk_load import Loader, discover
from joinedup.store.engine import make_engine
from joinedup.store.fhir_store import FhirStore
from joinedup.store.migrate import upgrade

DEMO_SEED = 1


def _work_day() -> date:
    """The demo's open work stands at today, so what the pages call waiting and overdue is so (decision 0506)."""
    return datetime.now(UTC).date()


def _generated(place_dir: Path, people: int) -> bool:
    manifest = place_dir / "manifest.json"
    if not manifest.is_file():
        return False
    described = json.loads(manifest.read_text())
    config = described.get("config", {})
    same_day = config.get("work_day") == _work_day().isoformat()
    return bool(config.get("people") == people and config.get("seed") == DEMO_SEED and same_day)


def generate(place_dir: Path, people: int, console: Console) -> None:
    from joinedup.synth.command import SynthConfig, generate_place

    columns = (TextColumn("[bold]Generating the place"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("synth", total=people)
        generate_place(
            place_dir,
            SynthConfig(people=people, seed=DEMO_SEED, today=_work_day()),
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )


def build_demo(settings: Settings, people: int, console: Console) -> None:
    place_dir = settings.demo_dir / f"place-{people}-seed{DEMO_SEED}"
    if not _generated(place_dir, people):
        generate(place_dir, people, console)
    upgrade(settings.database_url)
    files = discover([place_dir / "feeds"])
    store = FhirStore(make_engine(settings.database_url))
    columns = (TextColumn("[bold]Loading the place"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("load", total=sum(p.stat().st_size for p in files))
        report = Loader(store).load(files, lambda done: progress.advance(task, done))
    store.engine.dispose()
    console.print(
        f"The demo place: {report.created} resources created, {report.unchanged} already loaded, "
        f"{len(report.rejected)} rejected."
    )
    from joinedup.identity.command import describe, run_batch

    console.print(describe(run_batch(settings, console)))  # the person index: one Person per resident
    from joinedup.population.command import run_refresh

    index_date = str(json.loads((place_dir / "manifest.json").read_text())["config"]["index_date"])
    # Population health for the analysts' pages, with a year of quarterly snapshots behind it for the trends.
    run_refresh(settings, settings.population_db, place_dir / "feeds", index_date, None, console, history_quarters=4)
    print_demo_accounts(settings, console)


def print_demo_accounts(settings: Settings, console: Console) -> None:
    """A local account per demo role, with a fresh password printed once (development only)."""
    from joinedup.access.gate import AccessGate
    from joinedup.web.demo_users import demo_accounts

    gate = AccessGate.open(settings.database_url)
    try:
        made = demo_accounts(gate)
    finally:
        gate.close()
    console.print("Demo accounts (synthetic data only; new passwords each run):")
    for who, username, password in made:
        console.print(f"  {who.role_label:<32} {username:<34} {password}", highlight=False)
