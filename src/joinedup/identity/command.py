"""`joinedup identity …`: the person index from the command line (thin: it calls the services)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from joinedup.settings import Settings

from .batch_service import LinkReport

identity_app = typer.Typer(help="The person index: link every source record to one person.", no_args_is_help=True)
console = Console(stderr=True)

_PHASES = {
    "read": "Reading source records",
    "train": "Training the model",
    "link": "Linking",
    "write": "Writing the index",
}


def run_batch(settings: Settings, console: Console, retrain: bool = False) -> LinkReport:
    """Link the stored place with a progress bar per phase (also used by the demo)."""
    from joinedup.access.gate import AccessGate

    from .batch_service import BatchLinker
    from .decisions import Thresholds
    from .index_store import PURPOSE, IndexStore

    gate = AccessGate.open(settings.database_url)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console) as progress:
            tasks: dict[str, TaskID] = {}

            def advance(phase: str, done: int, total: int | None) -> None:
                if phase not in tasks:
                    tasks[phase] = progress.add_task(_PHASES.get(phase, phase), total=total)
                elif total is not None:
                    progress.update(tasks[phase], total=total)
                progress.advance(tasks[phase], done)

            thresholds = Thresholds(settings.identity_link_threshold, settings.identity_review_threshold)
            index = IndexStore(gate.for_system(PURPOSE), settings.person_index_keys_dir)
            linker = BatchLinker(index, thresholds, progress=advance)
            return linker.run(retrain=retrain)
    finally:
        gate.close()


def describe(report: LinkReport) -> str:
    timings = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.seconds.items())
    return (
        f"Linked {report.records:,} source records into {report.persons:,} persons "
        f"({report.linked_records:,} records share a person); {report.review_items:,} waiting for review. "
        f"Wrote {report.persons_written:,} Person, {report.provenances_written:,} Provenance and "
        f"{report.tasks_written:,} Task resources{' (model trained)' if report.trained else ''}. {timings}."
    )


@identity_app.command("link")
def link(
    retrain: Annotated[bool, typer.Option(help="Train the model again on the stored records")] = False,
) -> None:
    """Link every stored source Patient to one Person (idempotent: a re-run changes nothing)."""
    from joinedup.store.migrate import upgrade

    settings = Settings()
    upgrade(settings.database_url)
    report = run_batch(settings, console, retrain)
    console.print(describe(report))


# More unplaced records than this share of the index go to a batch run rather than one by one.
BATCH_SHARE = 0.1


def link_after_load(settings: Settings, console: Console) -> None:
    """After `joinedup load`: place each newly loaded Patient against the index as it arrives (or, for a load that
    is most of the place, run the batch). Before the first batch run there is no model and nothing to match."""
    from joinedup.access.gate import AccessGate

    from .arrivals import ArrivalLinker
    from .decisions import Thresholds
    from .index_store import PURPOSE, IndexStore

    gate = AccessGate.open(settings.database_url)
    try:
        index = IndexStore(gate.for_system(PURPOSE), settings.person_index_keys_dir)
        thresholds = Thresholds(settings.identity_link_threshold, settings.identity_review_threshold)
        linker = ArrivalLinker(index, thresholds)
        if linker.scorer() is None:
            console.print("The person index is not built yet: `joinedup identity link` links the place.")
            return
        linked = {pid for person in index.persons().values() if person.active for pid in person.links}
        arrived = [p for p in index.iterate("Patient", []) if p["id"] not in linked]
        if not arrived:
            return
        if len(arrived) > max(1000, BATCH_SHARE * len(linked)):
            console.print(describe(run_batch(settings, console)))
            return
        columns = (TextColumn("[bold]Placing new records"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("place", total=len(arrived))
            placed = linker.place_all(arrived, lambda n: progress.advance(task, n))
        console.print(f"The person index placed {placed:,} newly loaded records.")
    finally:
        gate.close()
