"""Validation speed, one core: pydantic-only (fhir.resources) against the fast pre-check with pydantic fallback.

    .venv/bin/python -m benchmarks.bench_validation [--repeat 8] [--synth-people 200]

Prints a markdown table of resources/second on the Synthea sample in ../shared/data/synthea and, when the
synthetic place generator (`joinedup.synth`) is installed, on its feeds. Validators are built before timing
(their one-off build cost per resource type is printed separately).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from unittest import mock

from joinedup.fhir import fast_schema, validation

REPO = Path(__file__).resolve().parents[1]
SYNTHEA = REPO.parent / "shared" / "data" / "synthea"


def synthea_resources() -> list[dict[str, Any]]:
    resources: list[dict[str, Any]] = []
    for path in sorted(SYNTHEA.glob("*.json")):
        resources.extend(entry["resource"] for entry in json.loads(path.read_text())["entry"])
    return resources


def synth_resources(people: int) -> list[dict[str, Any]]:
    from . import corpus

    folder = Path(tempfile.gettempdir()) / f"joinedup-bench-validation-{people}"
    feeds = corpus.place_feeds(folder, people)
    resources: list[dict[str, Any]] = []
    for path in sorted(feeds.rglob("*.ndjson")):
        with path.open("rb") as handle:
            resources.extend(json.loads(line) for line in handle if line.strip())
    return resources


def rate(resources: list[dict[str, Any]], check: Callable[[dict[str, Any]], object], repeat: int) -> float:
    started = time.process_time()
    for _ in range(repeat):
        for resource in resources:
            check(resource)
    return len(resources) * repeat / (time.process_time() - started)


def pydantic_only(resource: dict[str, Any]) -> object:
    return validation.validation_issues(resource)


def measure(name: str, resources: list[dict[str, Any]], repeat: int) -> tuple[str, int, float, float, float]:
    types = sorted({resource["resourceType"] for resource in resources})
    started = time.process_time()
    for resource_type in types:
        fast_schema.fast_validator(resource_type)
    build = (time.process_time() - started) / max(len(types), 1)
    with mock.patch.object(validation, "is_known_valid", return_value=False):
        before = rate(resources, pydantic_only, max(1, repeat // 4))
    after = rate(resources, validation.validation_issues, repeat)
    fast_share = sum(fast_schema.is_known_valid(r, r["resourceType"]) for r in resources) / len(resources)
    print(
        f"<!-- {name}: {len(types)} types, validator build {build * 1000:.0f} ms/type, "
        f"{fast_share:.1%} of resources on the fast path -->"
    )
    return name, len(resources), before, after, after / before


def table(rows: Iterable[tuple[str, int, float, float, float]]) -> str:
    lines = [
        "| corpus | resources | pydantic only (res/s) | fast path + fallback (res/s) | speed-up |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [f"| {n} | {c:,} | {b:,.0f} | {a:,.0f} | {s:.1f}x |" for n, c, b, a, s in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=8)
    parser.add_argument("--synth-people", type=int, default=200)
    args = parser.parse_args(argv)
    rows = []
    if SYNTHEA.is_dir():
        rows.append(measure("Synthea sample", synthea_resources(), args.repeat))
    if importlib.util.find_spec("joinedup.synth") is not None:
        try:
            place = synth_resources(args.synth_people)
        except ImportError as error:  # the generator is being built alongside; measure what exists
            print(f"<!-- synthetic place skipped: {error} -->")
        else:
            rows.append(measure(f"synthetic place ({args.synth_people} people)", place, 2))
    print(table(rows))


if __name__ == "__main__":
    main()
