"""`joinedup synth`: generate a synthetic place (the lead registers `synth` on the app)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from .config import ConfigError, MessRates, SynthConfig
from .generate import PlaceSummary, generate_place
from .report import print_report, write_report

__all__ = ["PlaceSummary", "SynthConfig", "generate_place", "synth"]

console = Console(stderr=True)
Rate = Annotated[float, typer.Option(min=0.0, max=1.0)]


def _fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def synth(
    out: Annotated[Path, typer.Option("--out", help="Folder to write feeds/, truth/ and manifest.json into")],
    people: Annotated[int, typer.Option(help="Residents at the index date (239000 is the full borough)")] = 2000,
    seed: Annotated[int, typer.Option(help="The same seed always gives byte-identical files")] = 1,
    start: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="First day of the window")] = datetime(
        2019, 1, 1
    ),
    end: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="Last day of the window")] = datetime(
        2025, 12, 31
    ),
    index_date: Annotated[
        datetime, typer.Option(formats=["%Y-%m-%d"], help="Risk truth: the year after this date")
    ] = datetime(2024, 12, 31),
    no_nhs_number_rate: Annotated[float, typer.Option(help="Social care, voluntary records with no NHS number")] = 0.25,
    misspelling_rate: Annotated[float, typer.Option(help="Records with a misspelt name")] = 0.04,
    nickname_rate: Annotated[float, typer.Option(help="Records with a familiar name (Bill for William)")] = 0.05,
    dob_swap_rate: Annotated[float, typer.Option(help="Records with day and month of birth swapped")] = 0.01,
    moved_address_rate: Annotated[float, typer.Option(help="Records with an old address")] = 0.08,
    duplicate_rate: Annotated[float, typer.Option(help="People with a second record in a source")] = 0.02,
    wrong_nhs_number_rate: Annotated[float, typer.Option(help="Records with another person's NHS number")] = 0.005,
    report: Annotated[Path | None, typer.Option(help="Write the calibration report (markdown, JSON) here")] = None,
    work_only: Annotated[
        bool, typer.Option(help="Residents and their care coordination work only, no clinical history (benchmarks)")
    ] = False,
    today: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="The day the open work stands at (default: the window's last day)"),
    ] = None,
) -> None:
    """Generate a synthetic borough and every partner's FHIR R4 feeds (bulk ndjson), with the ground truth."""
    mess = MessRates(
        no_nhs_number_rate,
        misspelling_rate,
        nickname_rate,
        dob_swap_rate,
        moved_address_rate,
        duplicate_rate,
        wrong_nhs_number_rate,
    )
    config = SynthConfig(
        people, seed, _day(start), _day(end), _day(index_date), mess, work_only, _day(today) if today else None
    )
    try:
        config.check()
    except ConfigError as error:
        _fail(str(error))
    if out.exists() and not out.is_dir():
        _fail(f"--out {out} exists and is not a folder")
    columns = (TextColumn("[bold]Generating the place"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("synth", total=people)
        summary = generate_place(out, config, lambda done, total: bar.update(task, completed=done, total=total))
    console.print(
        f"Wrote {summary.resources:,} resources for {summary.persons:,} people to {out} in {summary.seconds:.1f} s."
    )
    if report is not None:
        write_report(report, summary)
        print_report(summary, Console())


def _day(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value
