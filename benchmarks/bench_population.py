"""Population refresh benchmark: `python -m benchmarks.bench_population PLACE_DIR [--no-baseline] [--feed NAME]`.

Times the full refresh (views read from the place's ndjson in place, persons, scores, model, segments,
case-finding lists) and, in the same run, a baseline: the encounter view computed in plain pandas over the same
ndjson. With `--feed NAME` (e.g. acute) the baseline covers only that partner's feed, and DuckDB's encounter view
is timed again over the same feed alone (like for like, where pandas over the whole place would take an hour).
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
from joinedup.population.refresh import refresh
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


def main(place: Path, baseline: bool, feed: str | None) -> None:
    con = duckdb.connect()
    view_seconds: dict[str, float] = {}
    mark = [time.perf_counter()]

    def step(name: str) -> None:
        now = time.perf_counter()
        view_seconds[name] = now - mark[0]
        mark[0] = now

    report = refresh(con, date(2024, 12, 31), place / "truth", step, NdjsonSource(place / "feeds"))
    model = report.model
    print(f"view rows {sum(report.view_rows.values()):,}; refresh from ndjson {report.seconds['total']:.1f} s")
    print("steps", {k: round(v, 1) for k, v in report.seconds.items()})
    print("views", {k: round(v, 1) for k, v in view_seconds.items() if k in report.view_rows})
    print(f"AUC {model.auc:.3f}; true-probability AUC {model.true_probability_auc}; eFI AUC {model.efi_auc:.3f}")
    print(f"calibration slope {model.calibration_slope:.2f} intercept {model.calibration_intercept:.2f}")
    print("load average after DuckDB", os.getloadavg())
    con.close()  # frees the in-memory tables before the baseline reads the place again
    if baseline:
        feeds = place / "feeds" / feed if feed else place / "feeds"
        if feed:
            duck_seconds, duck_rows = duckdb_encounter_view(feeds)
        else:
            duck_seconds, duck_rows = view_seconds.get("encounter", 0.0), report.view_rows["encounter"]
        started = time.perf_counter()
        rows = pandas_encounter_view(feeds)
        print(
            f"pandas encounter view over {feeds}: {time.perf_counter() - started:.1f} s ({rows:,} rows); "
            f"DuckDB {duck_seconds:.1f} s ({duck_rows:,} rows)"
        )
        print("load average after pandas", os.getloadavg())


if __name__ == "__main__":
    chosen = sys.argv[sys.argv.index("--feed") + 1] if "--feed" in sys.argv else None
    main(Path(sys.argv[1]), "--no-baseline" not in sys.argv, chosen)
