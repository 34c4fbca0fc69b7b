"""Population refresh benchmark.

    python -m benchmarks.bench_population PLACE_DIR [--database FILE] [--reread FEED/TYPE.ndjson]
        [--no-baseline] [--feed NAME]

Times the full refresh (views, persons, scores, model, segments, case-finding lists) three ways into one DuckDB
file (default var/bench-population.duckdb, deleted first): cold (the extract built from every ndjson file),
warm (no file changed: the views are kept, everything after them recomputed) and, with --reread, warm with one
file treated as changed (read again and its rows replaced). Then, in the same run, a baseline: the encounter view
in plain pandas over the ndjson, beside DuckDB's encounter view over the same files. With `--feed NAME` (e.g.
acute) the baseline covers only that partner's feed (pandas over the whole place would take about an hour).
Prints the figures with the machine's load average (the machine is shared).
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd  # type: ignore[import-untyped]  # pandas ships no stubs in the lock

from joinedup.population.loading import NdjsonSource
from joinedup.population.refresh import RefreshReport, refresh
from joinedup.population.views_catalogue import build_views_of


def _first_code(concepts: object) -> object:
    for concept in concepts if isinstance(concepts, list) else []:
        for coding in concept.get("coding", []):
            if "code" in coding:
                return coding["code"]
    return None


def pandas_encounter_view(feeds: Path) -> int:
    """The encounter view's main columns in plain pandas, file by file in chunks; returns the row count."""
    rows = 0
    for path in sorted(feeds.glob("**/Encounter.ndjson")):
        for chunk in pd.read_json(path, lines=True, chunksize=200_000, dtype=False):
            frame = pd.DataFrame(
                {
                    "encounter_id": chunk["id"],
                    "patient_id": chunk["subject"].str.get("reference").str.extract(r"Patient/([^/]+)$")[0],
                    "class": chunk["class"].str.get("code"),
                    "type_code": chunk["type"].map(_first_code) if "type" in chunk else None,
                    "start_date": chunk["period"].str.get("start"),
                    "end_date": chunk["period"].str.get("end"),
                }
            )
            rows += len(frame)
    return rows


def duckdb_encounter_view(feeds: Path) -> tuple[float, int]:
    """The encounter view alone over feeds, in a fresh DuckDB: (seconds, rows)."""
    con = duckdb.connect()
    started = time.perf_counter()
    counts = build_views_of(con, ["encounter"], NdjsonSource(feeds))
    seconds = time.perf_counter() - started
    con.close()
    return seconds, counts["encounter"]


def _refresh(database: Path, place: Path) -> tuple[RefreshReport, dict[str, float]]:
    """One incremental refresh into database, in a fresh connection: (report, seconds per view)."""
    con = duckdb.connect(str(database))
    view_seconds: dict[str, float] = {}
    mark = [time.perf_counter()]

    def step(name: str) -> None:
        now = time.perf_counter()
        view_seconds[name] = now - mark[0]
        mark[0] = now

    report = refresh(con, date(2024, 12, 31), place / "truth", step, NdjsonSource(place / "feeds"), incremental=True)
    con.close()
    return report, view_seconds


def _print_run(label: str, report: RefreshReport, view_seconds: dict[str, float]) -> None:
    extract = report.extract
    assert extract is not None
    print(
        f"[{label}] refresh {report.seconds['total']:.1f} s; files read {extract.files_read} "
        f"({extract.bytes_read / 1e9:.2f} GB), kept {extract.files_kept}, dropped {extract.files_dropped}; "
        f"view rows {sum(report.view_rows.values()):,}; load average {os.getloadavg()}"
    )
    print(f"[{label}] steps", {k: round(v, 1) for k, v in report.seconds.items()})
    if extract.files_read:
        print(f"[{label}] views", {k: round(v, 1) for k, v in view_seconds.items() if k in report.view_rows})


def _mark_changed(database: Path, relative: str) -> None:
    """Make the next refresh treat one input file as changed (as if its partner had sent it again)."""
    con = duckdb.connect(str(database))
    changed = con.execute(
        "UPDATE extract_file SET mtime_ns = 0 WHERE path LIKE ? RETURNING path", ["%/" + relative]
    ).fetchall()
    con.close()
    if len(changed) != 1:
        raise SystemExit(f"--reread {relative}: expected one extracted file, found {len(changed)}")


def main(place: Path, database: Path, baseline: bool, feed: str | None, reread: str | None) -> None:
    print("load average before", os.getloadavg())
    database.unlink(missing_ok=True)  # the cold run builds the extract from nothing
    cold, cold_views = _refresh(database, place)
    _print_run("cold: every file read", cold, cold_views)
    warm, _ = _refresh(database, place)
    _print_run("warm: no file changed", warm, {})
    if reread:
        _mark_changed(database, reread)
        again, again_views = _refresh(database, place)
        _print_run(f"warm: {reread} re-read", again, again_views)
    model = warm.model
    print(f"AUC {model.auc:.3f}; true-probability AUC {model.true_probability_auc}; eFI AUC {model.efi_auc:.3f}")
    print(f"AUC on the people with truth {model.auc_on_truth_people}")
    print(f"calibration slope {model.calibration_slope:.2f} intercept {model.calibration_intercept:.2f}")
    print("database size", f"{database.stat().st_size / 1e9:.2f} GB")
    if baseline:
        feeds = place / "feeds" / feed if feed else place / "feeds"
        duck_seconds, duck_rows = duckdb_encounter_view(feeds)
        started = time.perf_counter()
        rows = pandas_encounter_view(feeds)
        print(
            f"pandas encounter view over {feeds}: {time.perf_counter() - started:.1f} s ({rows:,} rows); "
            f"DuckDB from ndjson {duck_seconds:.1f} s ({duck_rows:,} rows)"
        )
        print("load average after pandas", os.getloadavg())


def _option(name: str) -> str | None:
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else None


if __name__ == "__main__":
    main(
        Path(sys.argv[1]),
        Path(_option("--database") or "var/bench-population.duckdb"),
        "--no-baseline" not in sys.argv,
        _option("--feed"),
        _option("--reread"),
    )
