"""Ingest: resources per second through `joinedup load`, beside the raw floor measured in the same run.

The raw floor inserts the same JSON rows into the same database with no validation and no indexing (one
multi-row INSERT per batch of the same size, one transaction each), so the ratio shows what validation,
versioning and search indexing cost.
"""

from __future__ import annotations

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
    started = time.perf_counter()
    report = Loader(store, workers=workers).load(files)
    load_seconds = time.perf_counter() - started
    rows_written = _rows_in_store(store)
    store.engine.dispose()
    if report.rejected:
        raise RuntimeError(f"{len(report.rejected)} lines rejected; first: {report.rejected[0]}")
    return IngestFigures(database, count, load_seconds, floor_seconds, rows_written)


def _rows_in_store(store: FhirStore) -> int:
    """Rows the load wrote (the database was empty before it)."""
    with store.engine.connect() as conn:
        return sum(
            int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for table in (resources, resource_versions, *INDEX_TABLES.values())
        )
