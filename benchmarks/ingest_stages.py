"""Where a loaded resource's CPU goes before the database sees it: each stage of `joinedup load` timed on its own.

Run over the same feeds as the ingest benchmark, in the same run, one stage at a time on one core (CPU time), so
the figures can be set against the raw floor's time per resource and the budget that the issue's target leaves
(decision 0019). The stages are the loader's own functions, called as its workers and writer call them.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from joinedup.fhir.validation import validate_resource
from joinedup.store.bulk_load import BATCH_LINES, prepare_line, source_for
from joinedup.store.bulk_writer import StampedBody
from joinedup.store.indexer import index_tuples
from joinedup.store.writer import content_hash


@dataclass(frozen=True)
class StageCost:
    stage: str
    where: str  # the process that pays it: a worker, or the single writer
    micros_per_resource: float


STAGES: tuple[tuple[str, str], ...] = (
    ("parse the JSON line (orjson)", "worker"),
    ("validate against R4 (compiled schema)", "worker"),
    ("extract search index rows", "worker"),
    ("content hash (re-load detection)", "worker"),
    ("serialise the stored JSON", "worker"),
    ("hand over to the writer: pickle", "worker"),
    ("hand over to the writer: unpickle", "writer"),
)


def _timed(spent: dict[str, float], stage: str, work: Callable[[], Any]) -> Any:
    started = time.process_time()
    result = work()
    spent[stage] = spent.get(stage, 0.0) + time.process_time() - started
    return result


def measure_stages(files: list[Path]) -> list[StageCost]:
    """CPU microseconds per resource of each stage, over every line of `files`, a batch at a time as the loader
    takes them (so that no more is alive at once than in a worker)."""
    spent: dict[str, float] = {}
    count = 0
    for path in files:
        source = source_for(path)
        with path.open("rb") as handle:
            lines = [line for line in handle if line.strip()]
        for start in range(0, len(lines), BATCH_LINES):
            chunk = lines[start : start + BATCH_LINES]
            count += len(chunk)
            parsed = _timed(spent, STAGES[0][0], lambda c=chunk: [orjson.loads(line) for line in c])
            _timed(spent, STAGES[1][0], lambda p=parsed: [validate_resource(r) for r in p])
            _timed(spent, STAGES[2][0], lambda p=parsed: [index_tuples(r) for r in p])
            _timed(spent, STAGES[3][0], lambda p=parsed: [content_hash(r) for r in p])
            _timed(spent, STAGES[4][0], lambda p=parsed: [StampedBody.of(r) for r in p])
            prepared = [prepare_line(line, source) for line in chunk]
            sent = _timed(spent, STAGES[5][0], lambda b=prepared: pickle.dumps(b))
            _timed(spent, STAGES[6][0], lambda s=sent: pickle.loads(s))
    return [StageCost(stage, where, spent.get(stage, 0.0) / max(count, 1) * 1e6) for stage, where in STAGES]
