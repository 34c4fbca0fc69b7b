"""The audit append's cost (decision 0312): 10,000 appends one at a time, each its own group commit, on SQLite and
on a throwaway PostgreSQL server, and the chaining step alone (entry JSON and keyed hash, no database).

    PYTHONPATH=src python -m benchmarks.audit_append

Keys, databases and the server live in a temporary folder; nothing is written to the checkout.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from joinedup.access.audit import trail as audit
from joinedup.access.audit.keys import Keyring, load_keyring
from joinedup.store.engine import make_engine
from joinedup.store.migrate import upgrade
from tests.support.postgres_server import PostgresServer

APPENDS = 10_000
WARM_UP = 200
ACTOR = audit.Actor("PractitionerRole/gp-1", "gp", "Organization/o1", "treatment", "127.0.0.1", "api")
PEOPLE = [f"pat-{n}" for n in range(20)]  # a page of results about twenty people


def appends(url: str, keyring: Keyring) -> tuple[float, float]:
    """Seconds of wall time and of this process's CPU for APPENDS appends, after WARM_UP."""
    upgrade(url)
    engine = make_engine(url)
    trail = audit.AuditTrail(engine, keyring)
    for n in range(WARM_UP):
        trail.record(ACTOR, "search", "success", [f"Observation/o{n}"], PEOPLE, {"returned": 20})
    wall, cpu = time.perf_counter(), time.process_time()
    for n in range(APPENDS):
        trail.record(ACTOR, "search", "success", [f"Observation/o{n}"], PEOPLE, {"returned": 20})
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    engine.dispose()
    return wall, cpu


def chaining(keyring: Keyring, repeats: int = 7) -> float:
    """CPU seconds to number, serialise and hash APPENDS entries, best of `repeats`."""
    pending = [
        audit._Pending(ACTOR, "search", "success", [f"Observation/o{n}"], PEOPLE, {"returned": 20})
        for n in range(APPENDS)
    ]
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for n, entry in enumerate(pending):
            audit._chain(n, audit.GENESIS, [entry], keyring)
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="audit-bench-"))
    keyring = load_keyring("", folder / "audit.key", lambda: 0)
    print(f"chaining one entry (CPU, best of 7): {chaining(keyring) / APPENDS * 1e6:.2f} µs")
    wall, cpu = appends(f"sqlite:///{folder / 'audit.sqlite3'}", keyring)
    print(f"SQLite append: {wall / APPENDS * 1e6:.0f} µs wall, {cpu / APPENDS * 1e6:.0f} µs CPU in this process")
    with PostgresServer() as server:
        wall, cpu = appends(server.create_database("audit_bench"), keyring)
    print(f"PostgreSQL append: {wall / APPENDS * 1e6:.0f} µs wall, {cpu / APPENDS * 1e6:.0f} µs CPU in this process")


if __name__ == "__main__":
    main()
