"""Ingest: resources per second through `joinedup load`, beside the raw floor measured in the same run.

The raw floor inserts the same JSON rows into the same database with no validation and no indexing (one
multi-row INSERT per batch of the same size, one transaction each), so the ratio shows what validation,
versioning and search indexing cost.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

import orjson
from sqlalchemy import Column, Integer, LargeBinary, MetaData, String, Table, func, insert, select

from joinedup.store.bulk_load import BATCH_LINES, Loader, discover
from joinedup.store.engine import make_engine
from joinedup.store.fhir_store import FhirStore
from joinedup.store.migrate import upgrade
from joinedup.store.schema import INDEX_TABLES, resource_versions, resources

raw_metadata = MetaData()
raw_rows = Table(
    "bench_raw_floor",
    raw_metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("resource_type", String(64)),
    Column("id", String(64)),
    Column("content", LargeBinary),
)


@dataclass
class IngestFigures:
    database: str
    resources: int
    load_seconds: float
    floor_seconds: float
    rows_written: int = 0  # every row the load wrote: current rows, versions and search index rows
    cpu: CpuSplit | None = None  # the load's CPU seconds by process

    @property
    def rows_per_resource(self) -> float:
        return self.rows_written / self.resources

    @property
    def row_rate(self) -> float:
        return self.rows_written / self.load_seconds

    @property
    def load_rate(self) -> float:
        return self.resources / self.load_seconds

    @property
    def floor_rate(self) -> float:
        return self.resources / self.floor_seconds


@dataclass(frozen=True)
class CpuSplit:
    """CPU seconds (user and system) that a load cost each kind of process on this machine."""

    writer: float  # this process: the loader's single writer (on SQLite, the database's own work too)
    workers: float  # the loader's worker processes (parse, validate, index, serialise)
    server: float  # the PostgreSQL server's processes (0 for SQLite, which runs in the writer)

    @property
    def total(self) -> float:
        return self.writer + self.workers + self.server


def _own_and_children_cpu() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # worker processes, once the pool has joined them
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def postgres_server_cpu() -> float:
    """CPU seconds of every PostgreSQL process on this machine, with those of its ended children (backends whose
    connection closed are counted in the postmaster's). The benchmark's server is the only one running."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue  # ended while we looked
        if not stat[stat.index("(") + 1 : stat.rindex(")")].startswith("postgres"):
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += sum(int(field) for field in fields[11:15])  # utime, stime, cutime, cstime
    return total / ticks


def raw_floor(database_url: str, files: list[Path]) -> tuple[int, float]:
    engine = make_engine(database_url)
    raw_metadata.drop_all(engine)
    raw_metadata.create_all(engine)
    count = 0
    started = time.perf_counter()
    for path in files:
        with path.open("rb") as handle:
            batch: list[dict[str, object]] = []
            for line in handle:
                if not line.strip():
                    continue
                resource = orjson.loads(line)
                batch.append({"resource_type": resource["resourceType"], "id": resource["id"], "content": line})
                if len(batch) >= BATCH_LINES:
                    with engine.begin() as conn:
                        conn.execute(insert(raw_rows), batch)
                    count += len(batch)
                    batch = []
            if batch:
                with engine.begin() as conn:
                    conn.execute(insert(raw_rows), batch)
                count += len(batch)
    elapsed = time.perf_counter() - started
    raw_metadata.drop_all(engine)
    engine.dispose()
    return count, elapsed


def measure(database: str, database_url: str, feeds: Path, workers: int = 2) -> IngestFigures:
    files = [p for p in discover([feeds]) if p.suffix == ".ndjson"]
    upgrade(database_url)
    count, floor_seconds = raw_floor(database_url, files)
    store = FhirStore(make_engine(database_url))
    on_postgres = store.engine.dialect.name == "postgresql"
    own_before, children_before = _own_and_children_cpu()
    server_before = postgres_server_cpu() if on_postgres else 0.0
    started = time.perf_counter()
    report = Loader(store, workers=workers).load(files)
    load_seconds = time.perf_counter() - started
    own_after, children_after = _own_and_children_cpu()
    server_after = postgres_server_cpu() if on_postgres else 0.0
    cpu = CpuSplit(own_after - own_before, children_after - children_before, server_after - server_before)
    rows_written = _rows_in_store(store)
    store.engine.dispose()
    if report.rejected:
        raise RuntimeError(f"{len(report.rejected)} lines rejected; first: {report.rejected[0]}")
    return IngestFigures(database, count, load_seconds, floor_seconds, rows_written, cpu)


def _rows_in_store(store: FhirStore) -> int:
    """Rows the load wrote (the database was empty before it)."""
    with store.engine.connect() as conn:
        return sum(
            int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for table in (resources, resource_versions, *INDEX_TABLES.values())
        )
