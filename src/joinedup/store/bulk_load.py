"""`joinedup load`: FHIR Bundles and bulk ndjson into the store, idempotent, resumable, reporting every reject.

ndjson lines are parsed, validated and indexed in worker processes (the CPU-heavy part) and written by this
process in batches, each batch one transaction: an interrupted load leaves whole batches, and a re-run skips
everything already stored with the same content. A Bundle file is one unit (one transaction), its urn:uuid
references resolved, as its authors intended (see ../shared/data/synthea/SOURCE.txt).
"""

from __future__ import annotations

import os
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from joinedup.fhir.errors import FhirError
from joinedup.fhir.resource_types import NOT_STORED
from joinedup.fhir.source import SOURCE_URI_PREFIX, stamp_source
from joinedup.fhir.validation import validate_resource

from .bulk_writer import BatchCounts, Prepared, write_batch
from .bundles import BundleProcessor
from .context import SYSTEM
from .engine import refresh_statistics
from .fhir_store import FhirStore
from .writer import content_hash

BATCH_LINES = 2000
LOADER_CACHE_KIB = 1024 * 1024  # 1 GiB of SQLite page cache while loading
_ID_NAMESPACE = uuid.UUID("6f1c1a52-7d55-4c55-9a55-4a6f696e6564")  # for resources that arrive without an id


@dataclass(frozen=True, slots=True)
class Rejected:
    where: str  # file:line or file
    reason: str


@dataclass
class LoadReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    files: int = 0

    def add(self, counts: BatchCounts) -> None:
        self.created += counts.created
        self.updated += counts.updated
        self.unchanged += counts.unchanged


def source_for(path: Path) -> str:
    """A feed's folder names its partner organisation: feeds/acute/Encounter.ndjson came from 'acute'."""
    return f"{SOURCE_URI_PREFIX}{path.parent.name or 'unknown'}"


def prepare_line(line: bytes, source: str) -> Prepared | str | None:
    """Parse, validate and index one ndjson line; a string is the reason it was rejected, None a blank line."""
    if not line.strip():
        return None
    try:
        resource = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        return f"malformed JSON: {error}"
    try:
        if not isinstance(resource, dict):
            return "a line must hold one JSON object"
        if resource.get("resourceType") in NOT_STORED:
            return f"{resource.get('resourceType')} is not stored as a resource"
        validate_resource(resource)
    except FhirError as error:
        first = error.all_issues()[0]
        return f"{first.location or ''}: {first.diagnostics}".lstrip(": ")
    stamp_source(resource, source)
    digest = content_hash(resource)
    if not resource.get("id"):
        resource["id"] = str(uuid.uuid5(_ID_NAMESPACE, digest))
    return Prepared.of(resource, digest)


def _prepare_chunk(args: tuple[list[bytes], str]) -> list[Prepared | str | None]:
    lines, source = args
    return [prepare_line(line, source) for line in lines]


def discover(paths: Iterable[Path]) -> list[Path]:
    """Files to load, in a stable order: folders are walked; .ndjson and .json files are taken."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in {".ndjson", ".json"} and p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path} does not exist")
    return found


def _chunks(path: Path) -> Iterator[tuple[int, list[bytes]]]:
    """(first line number, lines) of an ndjson file, skipping blank lines but counting them."""
    with path.open("rb") as handle:
        chunk: list[bytes] = []
        start = 1
        for number, line in enumerate(handle, start=1):
            if not chunk:
                start = number
            chunk.append(line)
            if len(chunk) >= BATCH_LINES:
                yield start, chunk
                chunk = []
        if chunk:
            yield start, chunk


class Loader:
    def __init__(self, store: FhirStore, workers: int | None = None) -> None:
        self.store = store
        self.workers = workers if workers is not None else max(1, min(4, os.cpu_count() or 1))

    def load(self, paths: Iterable[Path], progress: Callable[[int], None] | None = None) -> LoadReport:
        """Load every file; `progress` is told how many bytes of input each step finished."""
        report = LoadReport()
        files = discover(paths)
        deferred: list[Path] = []
        with ProcessPoolExecutor(max_workers=self.workers) if self.workers > 1 else _Inline() as pool:
            for path in files:
                report.files += 1
                if path.suffix == ".ndjson":
                    self._load_ndjson(path, pool, report)
                elif not self._load_json(path, report, final=False):
                    deferred.append(path)
                if progress:
                    progress(path.stat().st_size)
        for path in deferred:  # bundles whose conditional references needed a later file
            self._load_json(path, report, final=True)
        if report.files:
            refresh_statistics(self.store.engine)
        return report

    def _load_ndjson(self, path: Path, pool: Any, report: LoadReport) -> None:
        """Prepare chunks in the workers, a bounded number ahead (memory stays flat on any file size), and write
        each chunk's good lines as one batch in file order."""
        source = source_for(path)
        pending: deque[tuple[int, Any]] = deque()
        for start, lines in _chunks(path):
            pending.append((start, pool.submit(_prepare_chunk, (lines, source))))
            if len(pending) > 2 * self.workers:
                self._write_chunk(path, *pending.popleft(), report)
        while pending:
            self._write_chunk(path, *pending.popleft(), report)

    def _write_chunk(self, path: Path, start: int, future: Any, report: LoadReport) -> None:
        batch: list[Prepared] = []
        for offset, result in enumerate(future.result()):
            if isinstance(result, str):
                report.rejected.append(Rejected(f"{path}:{start + offset}", result))
            elif result is not None:
                batch.append(result)
        if batch:
            with self.store.writing() as conn:
                if conn.dialect.name == "sqlite":
                    # Index B-trees outgrow SQLite's default page cache within a few hundred thousand resources,
                    # and each batch then waits on random reads: give the loader's connection a large cache.
                    conn.exec_driver_sql(f"PRAGMA cache_size=-{LOADER_CACHE_KIB}")
                report.add(write_batch(conn, batch))

    def _load_json(self, path: Path, report: LoadReport, final: bool) -> bool:
        """Load one JSON file; False when it should be retried after the others (an unresolved reference)."""
        try:
            document = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError as error:
            report.rejected.append(Rejected(str(path), f"malformed JSON: {error}"))
            return True
        if not isinstance(document, dict):
            report.rejected.append(Rejected(str(path), "the file must hold one JSON object"))
            return True
        try:
            if document.get("resourceType") == "Bundle" and document.get("type") in {
                "transaction",
                "batch",
                "collection",
            }:
                self._load_bundle(path, document, report)
            else:
                result = prepare_line(orjson.dumps(document), source_for(path))
                if isinstance(result, str):
                    report.rejected.append(Rejected(str(path), result))
                elif result is not None:
                    with self.store.writing() as conn:
                        report.add(write_batch(conn, [result]))
        except FhirError as error:
            if not final and error.status == 422:
                return False
            first = error.all_issues()[0]
            report.rejected.append(Rejected(str(path), f"{first.location or ''}: {first.diagnostics}".lstrip(": ")))
        return True

    def _load_bundle(self, path: Path, bundle: dict[str, Any], report: LoadReport) -> None:
        source = source_for(path)
        for entry in bundle.get("entry") or []:
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(resource, dict):
                stamp_source(resource, source)
                if "request" not in entry:  # a collection: store each resource at its own id
                    entry["request"] = {"method": "PUT", "url": f"{resource.get('resourceType')}/{resource.get('id')}"}
        results = BundleProcessor(self.store, keep_ids=True).transaction(SYSTEM, bundle)
        for result in results:
            if result.status.startswith("201"):
                report.created += 1
            elif result.resource is not None and result.etag:
                report.unchanged += 1


class _Inline:
    """A pool of one: the same interface as ProcessPoolExecutor, in this process (for tests and small loads)."""

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *args: object) -> None:
        return None

    def submit(self, function: Callable[[Any], Any], item: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(function(item))
        return future
