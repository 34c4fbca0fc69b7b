"""A place with two neighbourhoods' MDGs, refreshed and published, on each database; and the app over it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from joinedup.access.gate import AccessGate
from joinedup.app import create_app
from joinedup.care.huddles.publication import Publication
from joinedup.settings import Settings
from joinedup.store.engine import make_engine
from joinedup.store.fhir_store import FhirStore

from ...web import place
from . import neighbourhood as hood


@dataclass
class Huddles:
    gate: AccessGate
    population_db: Path
    first: Publication  # the publication after the refresh (Cora objected in between)
    database_url: str


@pytest.fixture
def huddles(database_url: str, tmp_path: Path) -> Iterator[Huddles]:
    store = FhirStore(make_engine(database_url))
    place.load(store, place.place(people=6, entries=3))
    store.engine.dispose()
    gate = AccessGate.open(database_url)
    hood.build(gate)
    population_db = hood.refreshed(gate, tmp_path / "population.duckdb")
    hood.object_to_sharing(gate, hood.CORA.patient_id)  # after the refresh: only the publication can see it
    first = hood.publish(gate, population_db)
    try:
        yield Huddles(gate, population_db, first, database_url)
    finally:
        gate.close()


@pytest.fixture
def app(huddles: Huddles, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=huddles.database_url,
        environment="test",
        export_dir=tmp_path / "exports",
        population_db=huddles.population_db,
        served_on_loopback=True,
    )
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        yield client
