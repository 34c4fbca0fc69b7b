"""`make bench`: measure ingest and serving on SQLite and PostgreSQL and write docs/benchmarks.md.

Sizes can be cut for a quick look (`python -m benchmarks --ingest-people 2000 --serving-people 5000`); the
figures in docs/benchmarks.md are from the default sizes, which meet the issue's minimums.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from joinedup.store.engine import make_engine

from . import corpus, ingest, serving, serving_data
from .machine import describe
from .report import write_report

REPO = Path(__file__).resolve().parents[1]


def _postgres() -> object:
    sys.path.insert(0, str(REPO))
    from tests.support.postgres_server import PostgresServer

    server = PostgresServer()
    server.start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ingest-people", type=int, default=20_000)
    parser.add_argument("--serving-people", type=int, default=40_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--work", type=Path, default=REPO / "var" / "bench")
    arguments = parser.parse_args()
    arguments.work.mkdir(parents=True, exist_ok=True)
    sections: dict[str, object] = {"machine": describe(), "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}

    server = _postgres()
    try:
        feeds = corpus.place_feeds(arguments.work / f"place-{arguments.ingest_people}", arguments.ingest_people)
        ingest_figures = []
        with tempfile.TemporaryDirectory() as scratch:
            sqlite_url = f"sqlite:///{scratch}/ingest.sqlite3"
            ingest_figures.append(ingest.measure("SQLite", sqlite_url, feeds))
        pg_url = server.create_database("bench_ingest")  # type: ignore[attr-defined]
        ingest_figures.append(ingest.measure("PostgreSQL", pg_url, feeds))
        server.drop_database("bench_ingest")  # type: ignore[attr-defined]
        sections["ingest"] = ingest_figures
        print(f"ingest: {ingest_figures}", flush=True)

        big = corpus.place_feeds(arguments.work / f"place-{arguments.serving_people}", arguments.serving_people)
        corpus.write_tasks(big, 50_000)
        sections["serving_resources"] = corpus.count_lines(big)
        serving_figures = {}
        for name, url in (("SQLite", f"sqlite:///{arguments.work}/serving.sqlite3"),
                          ("PostgreSQL", server.create_database("bench_serving"))):  # type: ignore[attr-defined]
            started = time.perf_counter()
            ingest.load_only(url, big)
            load_seconds = time.perf_counter() - started
            engine = make_engine(url)
            urls = serving_data.build(engine)
            engine.dispose()
            app = serving.Server(url)
            try:
                serving_figures[name] = {
                    "load_seconds": load_seconds,
                    "everything_sizes": urls.everything_sizes,
                    "results": [
                        serving.scenario("baseline: /healthz", app.base, ["/healthz"], arguments.seconds),
                        serving.scenario("read", app.base, urls.reads, arguments.seconds),
                        serving.scenario("search: a patient's Conditions by code", app.base,
                                         urls.conditions_by_code, arguments.seconds),
                        serving.scenario("search: Encounters by date range", app.base, urls.encounters_by_date,
                                         arguments.seconds),
                        serving.scenario("search: Tasks by owner and status", app.base, urls.tasks_by_owner_status,
                                         arguments.seconds),
                        serving.scenario("Patient/$everything", app.base, urls.everything, arguments.seconds),
                    ],
                }
            finally:
                app.stop()
            print(f"serving {name}: {serving_figures[name]}", flush=True)
        sections["serving"] = serving_figures
    finally:
        server.stop()  # type: ignore[attr-defined]
    write_report(REPO / "docs" / "benchmarks.md", sections)
    shutil.rmtree(arguments.work / "serving.sqlite3", ignore_errors=True)


if __name__ == "__main__":
    main()
