"""`make bench`: measure ingest and serving on SQLite and PostgreSQL and write docs/benchmarks.md.

Ingest: a synthetic place of `--ingest-people` residents (2,000 give about 117,000 resources) is loaded into a
fresh database of each kind through `joinedup load`, beside the raw floor measured in the same run.

Serving: a place of `--people` residents plus `--tasks` Tasks (20,000 and 50,000 give about 1.2 million resources)
is loaded once into an SQLite store under var/bench/ (kept between runs, and reused while it holds exactly those
feeds); the PostgreSQL serving store is a COPY of its rows (benchmarks/clone.py). Both are then served to 16
concurrent clients. Component benchmarks (synthetic place, validation, linkage, record page, population) write
their own sections, docs/benchmarks-*.md, which this report takes in.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from joinedup.store.bulk_load import Loader, discover
from joinedup.store.engine import make_engine, refresh_statistics
from joinedup.store.fhir_store import FhirStore
from joinedup.store.migrate import upgrade

from . import corpus, ingest, ingest_stages, serving, serving_data
from .clone import copy_store
from .machine import describe, load_average
from .report import write_report

REPO = Path(__file__).resolve().parents[1]


def _serve(name: str, url: str, seconds: int) -> dict[str, Any]:
    engine = make_engine(url)
    urls = serving_data.build(engine)
    engine.dispose()
    app = serving.Server(url)
    try:
        scenarios = [
            ("baseline: /healthz", ["/healthz"]),
            ("read", urls.reads),
            ("search: a patient's Conditions by code", urls.conditions_by_code),
            ("search: Encounters by date range", urls.encounters_by_date),
            ("search: Tasks by owner and status", urls.tasks_by_owner_status),
            ("Patient/$everything", urls.everything),
        ]
        results = [serving.scenario(label, app, paths, seconds) for label, paths in scenarios]
    finally:
        app.stop()
    print(f"serving {name}: {results}", flush=True)
    return {"everything_sizes": urls.everything_sizes, "results": results}


def _stored_count(sqlite_file: Path) -> int:
    if not sqlite_file.is_file():
        return -1
    try:
        with sqlite3.connect(sqlite_file) as conn:
            return int(conn.execute("SELECT count(*) FROM resources").fetchone()[0])
    except sqlite3.DatabaseError:
        return -1


def _sqlite_serving_store(sqlite_file: Path, feeds: Path, expected: int) -> float | None:
    """The SQLite serving store, loaded unless it already holds exactly these feeds; the load's seconds or None."""
    url = f"sqlite:///{sqlite_file}"
    if _stored_count(sqlite_file) == expected:
        upgrade(url)
        engine = make_engine(url)
        refresh_statistics(engine)
        engine.dispose()
        return None
    for leftover in sqlite_file.parent.glob(sqlite_file.name + "*"):
        leftover.unlink()
    upgrade(url)
    store = FhirStore(make_engine(url))
    started = time.perf_counter()
    report = Loader(store, workers=2).load(discover([feeds]))
    seconds = time.perf_counter() - started
    store.engine.dispose()
    if report.rejected:
        raise RuntimeError(f"{len(report.rejected)} lines rejected; first: {report.rejected[0]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=20_000, help="residents of the serving place")
    parser.add_argument("--ingest-people", type=int, default=2_000, help="residents of the ingest sample")
    parser.add_argument("--tasks", type=int, default=50_000)
    parser.add_argument("--seconds", type=int, default=15, help="measured seconds per serving scenario")
    parser.add_argument("--work", type=Path, default=REPO / "var" / "bench")
    parser.add_argument(
        "--only",
        choices=["serving"],
        help="measure only serving against the existing SQLite store (loaded if absent), print the figures and "
        "leave docs/benchmarks.md alone",
    )
    parser.add_argument(
        "--databases", default="SQLite,PostgreSQL", help="with --only serving: which of SQLite,PostgreSQL to serve"
    )
    arguments = parser.parse_args()
    if arguments.only == "serving":
        _serving_only(arguments)
        return
    work: Path = arguments.work
    work.mkdir(parents=True, exist_ok=True)
    sections: dict[str, Any] = {
        "machine": describe(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_before": load_average(),
    }

    sys.path.insert(0, str(REPO))
    from tests.support.postgres_server import PostgresServer

    ingest_feeds = corpus.place_feeds(work / f"place-{arguments.ingest_people}", arguments.ingest_people)
    serving_feeds = corpus.place_feeds(work / f"place-{arguments.people}", arguments.people)
    corpus.write_tasks(serving_feeds, arguments.tasks)
    sections["serving_resources"] = corpus.count_lines(serving_feeds)
    with PostgresServer() as server:
        ingest_sqlite = work / "ingest.sqlite3"
        for leftover in work.glob("ingest.sqlite3*"):
            leftover.unlink()
        databases = {"SQLite": f"sqlite:///{ingest_sqlite}", "PostgreSQL": server.create_database("ingest")}
        sections["ingest"] = []
        for name, url in databases.items():
            figures = ingest.measure(name, url, ingest_feeds)
            print(f"ingest {name}: {figures.load_rate:,.0f}/s vs floor {figures.floor_rate:,.0f}/s", flush=True)
            sections["ingest"].append(figures)
        sections["ingest_stages"] = ingest_stages.measure_stages(
            [p for p in discover([ingest_feeds]) if p.suffix == ".ndjson"]
        )

        sqlite_file = work / "bench.sqlite3"
        load_seconds = _sqlite_serving_store(sqlite_file, serving_feeds, sections["serving_resources"])
        # SQLite is served before the copy to PostgreSQL: the copy reads the whole 5 GB file and then writes as
        # much again, which leaves the page cache holding the wrong pages and the disk busy for the first
        # scenarios (17:15, make bench: read p95 175 ms straight after the copy; 35-45 ms in four runs minutes later).
        sqlite_figures = _serve("SQLite", f"sqlite:///{sqlite_file}", arguments.seconds)
        postgres_url = server.create_database("serving")
        started = time.perf_counter()
        copy_store(sqlite_file, postgres_url, lambda table, rows: print(f"copied {table}: {rows:,}", flush=True))
        copy_seconds = time.perf_counter() - started
        sections["serving"] = {
            "SQLite": {"prepared": _prepared_text(load_seconds), **sqlite_figures},
            "PostgreSQL": {
                "prepared": f"Store copied from the SQLite store's rows in {copy_seconds:.0f} s (benchmarks/clone.py).",
                **_serve("PostgreSQL", postgres_url, arguments.seconds),
            },
        }
    sections["load_after"] = load_average()
    write_report(REPO / "docs" / "benchmarks.md", sections)
    print("wrote docs/benchmarks.md")


def _serving_only(arguments: argparse.Namespace) -> None:
    """Serving on the existing store only (for comparing changes to the serving path in minutes, not an hour)."""
    wanted = {name.strip().lower() for name in arguments.databases.split(",") if name.strip()}
    work: Path = arguments.work
    work.mkdir(parents=True, exist_ok=True)
    feeds = corpus.place_feeds(work / f"place-{arguments.people}", arguments.people)
    corpus.write_tasks(feeds, arguments.tasks)
    sqlite_file = work / "bench.sqlite3"
    _sqlite_serving_store(sqlite_file, feeds, corpus.count_lines(feeds))
    print(f"load average before: {load_average()}", flush=True)
    if "sqlite" in wanted:
        _print_serving("SQLite", _serve("SQLite", f"sqlite:///{sqlite_file}", arguments.seconds))
    if "postgresql" in wanted:
        sys.path.insert(0, str(REPO))
        from tests.support.postgres_server import PostgresServer

        with PostgresServer() as server:
            postgres_url = server.create_database("serving")
            copy_store(sqlite_file, postgres_url, lambda table, rows: print(f"copied {table}: {rows:,}", flush=True))
            _print_serving("PostgreSQL", _serve("PostgreSQL", postgres_url, arguments.seconds))
    print(f"load average after: {load_average()}", flush=True)


def _print_serving(name: str, served: dict[str, Any]) -> None:
    print(f"\n{name}: scenario | requests/s | p50 ms | p95 ms | errors")
    for figures in served["results"]:
        print(
            f"{figures.scenario} | {figures.requests_per_second:,.0f} | {figures.p50_ms:.1f} | "
            f"{figures.p95_ms:.1f} | {figures.errors}",
            flush=True,
        )


def _prepared_text(load_seconds: float | None) -> str:
    if load_seconds is None:
        return "Store loaded through `joinedup load` by an earlier run (kept in var/bench/ while it holds these feeds)."
    return f"Store loaded through `joinedup load` in {load_seconds:.0f} s."


if __name__ == "__main__":
    main()
