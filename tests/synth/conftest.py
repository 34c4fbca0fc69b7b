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


@pytest.fixture(scope="session")
def small_place(tmp_path_factory: pytest.TempPathFactory) -> PlaceSummary:
    return generate_place(tmp_path_factory.mktemp("place") / "small", SynthConfig(people=SMALL, seed=3))


def resources(place: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(feed, resource) for every line of every feed."""
    for path in sorted((place / "feeds").rglob("*.ndjson")):
        with path.open("rb") as handle:
            for line in handle:
                yield path.parent.name, orjson.loads(line)
