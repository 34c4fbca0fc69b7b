"""Record page render time: a person with 500 resources, rendered server-side, beside the plain FHIR `$everything`
for the same person in the same run (the floor: the same rows read through the same gate, as JSON).

    .venv/bin/python -m benchmarks.bench_record_page [--resources 500] [--repeat 60] [--database-url URL]

Without --database-url it measures on SQLite and on a PostgreSQL server it starts (as the tests do).
Prints a markdown fragment per database (p50/p95 in milliseconds) with the load average before and after.
Renders go through the ASGI app in-process (Starlette's TestClient), so they include routing, the session
cookie and template rendering, but no network.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TARGET_MS = 200.0


def _timings(call: Callable[[], int], repeat: int) -> list[float]:
    for _ in range(5):  # warm the caches, the templates and the connection pool
        call()
    found = []
    for _ in range(repeat):
        started = time.perf_counter()
        status = call()
        found.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise RuntimeError(f"a render answered {status}")
    return found


def _system_bearer(client: Any) -> dict[str, str]:
    """A system client registered as `joinedup clients register` does, with its token from /auth/token."""
    secret, client_id = secrets.token_urlsafe(24), f"bench-{secrets.token_hex(4)}"
    client.app.state.services.gate.tokens.register_client(client_id, secret, "Benchmark", "system", None, "system/*.rs")
    form = {"grant_type": "client_credentials", "scope": "system/*.rs"}
    issued = client.post("/auth/token", data=form, auth=(client_id, secret))
    assert issued.status_code == 200, issued.text
    return {"Authorization": f"Bearer {issued.json()['access_token']}"}


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _measure(url: str, resources_wanted: int, repeat: int, scratch: str) -> tuple[int, dict[str, list[float]]]:
    from fastapi.testclient import TestClient

    from joinedup.app import create_app
    from joinedup.settings import Settings
    from joinedup.store.engine import make_engine
    from joinedup.store.fhir_store import FhirStore
    from joinedup.store.migrate import upgrade
    from tests.web import place

    upgrade(url)
    who = place.person(41)  # registered with the demo GP's practice: a legitimate relationship (issue 5)
    store = FhirStore(make_engine(url))
    summary_count = len(place.person_resources(who, 0))
    resources = place.person_resources(who, max(0, resources_wanted - summary_count))
    place.load(store, list(place.organisations()) + resources)
    store.engine.dispose()
    settings = Settings(
        database_url=url, environment="test", export_dir=Path(scratch) / "exports", served_on_loopback=True
    )  # in-process: as private as loopback, so the demo sign-in is offered
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/sign-in").text)
        assert token is not None, "the sign-in form carries a CSRF token"
        client.post("/sign-in", data={"demo_user": "gp", "next": "/", "csrf": token.group(1)})
        bearer = _system_bearer(client)  # the $everything baseline is an API call: a system client's token
        path = f"/record/{who.patient_id}"
        scenarios = {
            "FHIR `$everything` (baseline, same gate)": lambda: (
                client.get(f"/fhir/Patient/{who.patient_id}/$everything?_count=1000", headers=bearer).status_code
            ),
            "Record page (banner, summary, first 50 timeline entries)": lambda: client.get(path).status_code,
            "Timeline filtered by organisation (htmx partial)": lambda: (
                client.get(f"{path}?organisation={place.ACUTE.code}", headers={"HX-Request": "true"}).status_code
            ),
            "Timeline page 5 (htmx partial)": lambda: (
                client.get(f"{path}?page=5", headers={"HX-Request": "true"}).status_code
            ),
        }
        return len(resources), {name: _timings(call, repeat) for name, call in scenarios.items()}


def _report(engine: str, resources: int, repeat: int, results: dict[str, list[float]], load: str) -> None:
    print(f"### Record page render ({resources} resources for one person, {engine}, {repeat} renders)\n")
    print(f"Load average (1/5/15 min) before / after: {load}\n")
    print("| What | p50 ms | p95 ms | target |")
    print("| --- | ---: | ---: | --- |")
    for name, values in results.items():
        target = "" if "baseline" in name else f"< {TARGET_MS:.0f} ms"
        print(f"| {name} | {_p(values, 50):.1f} | {_p(values, 95):.1f} | {target} |")
    print()


def _load() -> str:
    return " / ".join(f"{v:.1f}" for v in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resources", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--database-url", default=None, help="an empty, migrated-or-migratable database")
    arguments = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from tests.support.postgres_server import PostgresServer

    with tempfile.TemporaryDirectory() as scratch:
        if arguments.database_url:
            urls = {"given database": arguments.database_url}
        else:
            server = PostgresServer()
            server.start()
            urls = {"SQLite": f"sqlite:///{scratch}/bench.sqlite3", "PostgreSQL": server.create_database("record")}
        try:
            for engine, url in urls.items():
                before = _load()
                count, results = _measure(url, arguments.resources, arguments.repeat, scratch)
                _report(engine, count, arguments.repeat, results, f"{before} / {_load()}")
        finally:
            if not arguments.database_url:
                server.stop()


if __name__ == "__main__":
    main()
