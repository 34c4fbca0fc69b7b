"""`joinedup population refresh`: loads resources into DuckDB and runs the refresh with a progress bar."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from joinedup.care.huddles.service import PUBLICATION_PURPOSE, Publication, publish_case_finding
from joinedup.settings import Settings

from .case_finding import direct_care_candidates
from .loading import POPULATION_PURPOSE, NdjsonSource, ResourceSource, load_store
from .refresh import STEPS, refresh
from .trends import quarter_ends_before


def run_refresh(
    settings: Settings,
    out: Path,
    ndjson: Path | None,
    index_date: str,
    truth: Path | None,
    console: Console,
    history_quarters: int = 0,
    publish: bool = True,
) -> None:
    """`publish`: afterwards, each MDG's case-finding list for direct care (decision 0505) goes to the store."""
    when = date.fromisoformat(index_date)
    history = quarter_ends_before(when, history_quarters)
    out.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(out))
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("Loading resources", total=len(STEPS) + 1 + len(history))
        source: ResourceSource | None = None
        if ndjson is not None:
            source = NdjsonSource(ndjson)  # read in place by the views: no load step
        else:
            from joinedup.access.gate import AccessGate

            gate = AccessGate.open(settings.database_url)
            try:  # an audited system read of the whole place (decision 0400)
                load_store(con, gate.for_system(POPULATION_PURPOSE))
            finally:
                gate.close()
        progress.update(task, advance=1, description="Refreshing")

        def step(name: str) -> None:
            progress.update(task, advance=1, description=f"Refreshing: {name}")

        # Bulk Data folders are read incrementally: the views stay in `out`, and only changed files are re-read.
        report = refresh(con, when, truth, step, source, incremental=ndjson is not None, history=history)
        progress.update(task, description="Publishing case-finding lists for direct care")
        published = publish_for_direct_care(settings, con) if publish else None
    con.close()
    model = report.model
    rows = sum(report.view_rows.values())
    console.print(f"{rows:,} view rows; {model.test_people:,} residents scored in {report.seconds['total']:.1f} s.")
    if report.extract is not None:
        read = report.extract
        console.print(
            f"Views: {read.files_read} file(s) read ({read.bytes_read / 1e9:.2f} GB), {read.files_kept} unchanged, "
            f"{read.files_dropped} dropped."
        )
    console.print(
        f"Risk model AUC {model.auc:.3f} (eFI alone {model.efi_auc:.3f}); calibration slope "
        f"{model.calibration_slope:.2f}, intercept {model.calibration_intercept:.2f}."
    )
    if model.true_probability_auc is not None:
        console.print(f"True-probability AUC on the same people {model.true_probability_auc:.3f}.")
    console.print(f"Tables written to {out}.")
    if published is not None:
        console.print(
            f"Case-finding lists for direct care: {published.lists_written} published, {published.lists_unchanged} "
            f"unchanged; {published.people_listed} people listed, {sum(published.people_left_off.values())} left off."
        )


def publish_for_direct_care(settings: Settings, con: duckdb.DuckDBPyConnection) -> Publication | None:
    """Each MDG's list as a FHIR List, written by the system (care/huddles, decision 0505). The people's record ids
    in `person_map` are the store's: the refresh read the store, or the ndjson the store was loaded from. None when
    the store has no tables yet (a refresh of files alone, before anything was loaded)."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from joinedup.access.gate import AccessGate

    gate = AccessGate.open(settings.database_url)
    try:
        return publish_case_finding(gate.for_system(PUBLICATION_PURPOSE), lambda n: direct_care_candidates(con, n))
    except (OperationalError, ProgrammingError):
        return None
    finally:
        gate.close()
