"""A small generated place shared by the synth tests (generated once per session)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from joinedup.synth.config import SynthConfig
from joinedup.synth.generate import PlaceSummary, generate_place

SMALL = 400
DEMO_SIZE = 2000  # the demo's place: care coordination's floors (issue 26) are stated for it


@pytest.fixture(scope="session")
def small_place(tmp_path_factory: pytest.TempPathFactory) -> PlaceSummary:
    return generate_place(tmp_path_factory.mktemp("place") / "small", SynthConfig(people=SMALL, seed=3))


def resources(place: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(feed, resource) for every line of every feed."""
    for path in sorted((place / "feeds").rglob("*.ndjson")):
        with path.open("rb") as handle:
            for line in handle:
                yield path.parent.name, orjson.loads(line)


@pytest.fixture(scope="session")
def demo_sized_place(tmp_path_factory: pytest.TempPathFactory) -> PlaceSummary:
    """A 2,000-person place, as `make demo` generates (another seed, so no test leans on the demo's draws)."""
    return generate_place(tmp_path_factory.mktemp("place") / "demo-sized", SynthConfig(people=DEMO_SIZE, seed=5))


@pytest.fixture(scope="session")
def work_only_place(tmp_path_factory: pytest.TempPathFactory) -> PlaceSummary:
    """The same place with its people and their care coordination work only, as the benchmark place is made."""
    config = SynthConfig(people=DEMO_SIZE, seed=5, work_only=True)
    return generate_place(tmp_path_factory.mktemp("place") / "work-only", config)


def by_type(place: Path) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Every resource of the place grouped by type, each with its feed."""
    found: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for feed, resource in resources(place):
        found.setdefault(resource["resourceType"], []).append((feed, resource))
    return found
