"""One linkage model trained per test session on a small made-up place (a few seconds on DuckDB)."""

from __future__ import annotations

import pytest

from joinedup.identity.features import patient_to_record
from joinedup.identity.model import LinkageModel, ModelConfig
from joinedup.identity.record import LinkageRecord

from .people import Person, make_people, two_sources


@pytest.fixture(scope="session")
def people() -> list[Person]:
    return make_people(1500)


@pytest.fixture(scope="session")
def place(people: list[Person]) -> tuple[list[LinkageRecord], dict[str, int]]:
    patients, truth = two_sources(people)
    return [patient_to_record(p, source) for source, p in patients], truth


@pytest.fixture(scope="session")
def model(place: tuple[list[LinkageRecord], dict[str, int]]) -> LinkageModel:
    records, _ = place
    return LinkageModel.train(records, config=ModelConfig(max_pairs_for_u=3e5))
