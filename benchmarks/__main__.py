"""`make bench`: measure ingest and serving on SQLite and PostgreSQL and write docs/benchmarks.md.

One synthetic place (20,000 residents, about 1.1 million resources) is generated once. Each database is loaded
with it through `joinedup load` (the ingest figure, beside the raw floor measured in the same run), then served
to 16 concurrent clients (the serving figures). Smaller sizes give a quick look: `python -m benchmarks --people 2000`.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from joinedup.store.engine import make_engine

from . import corpus, ingest, serving, serving_data
from .machine import describe
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
        results = [serving.scenario(label, app.base, paths, seconds) for label, paths in scenarios]
    finally:
        app.stop()
    print(f"serving {name}: {results}", flush=True)
    return {"everything_sizes": urls.everything_sizes, "results": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--tasks", type=int, default=50_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--work", type=Path, default=REPO / "var" / "bench")
    arguments = parser.parse_args()
    arguments.work.mkdir(parents=True, exist_ok=True)
    sections: dict[str, Any] = {"machine": describe(), "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}

    feeds = corpus.place_feeds(arguments.work / f"place-{arguments.people}", arguments.people)
    corpus.write_tasks(feeds, arguments.tasks)
    sections["serving_resources"] = corpus.count_lines(feeds)

    sys.path.insert(0, str(REPO))
    from tests.support.postgres_server import PostgresServer

    sqlite_file = arguments.work / "bench.sqlite3"
    for leftover in arguments.work.glob("bench.sqlite3*"):
        leftover.unlink()
    with PostgresServer() as server:
        databases = {"SQLite": f"sqlite:///{sqlite_file}", "PostgreSQL": server.create_database("bench")}
        sections["ingest"] = []
        sections["serving"] = {}
        for name, url in databases.items():
            figures = ingest.measure(name, url, feeds)
            print(f"ingest {name}: {figures.load_rate:,.0f}/s vs floor {figures.floor_rate:,.0f}/s", flush=True)
            sections["ingest"].append(figures)
            sections["serving"][name] = {"load_seconds": figures.load_seconds, **_serve(name, url, arguments.seconds)}
    write_report(REPO / "docs" / "benchmarks.md", sections)
    print("wrote docs/benchmarks.md")


if __name__ == "__main__":
    main()
