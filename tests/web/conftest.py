"""A client on a database holding the generated place (both databases), and signing in as a demo user."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from joinedup.store.engine import make_engine
from joinedup.store.fhir_store import FhirStore

from . import place


@pytest.fixture
def loaded(database_url: str) -> str:
    store = FhirStore(make_engine(database_url))
    place.load(store, place.place(people=12, entries=30))
    store.engine.dispose()
    return database_url


@pytest.fixture
def web(loaded: str, client: TestClient) -> Iterator[TestClient]:
    """The app's TestClient, with the place loaded (the `client` fixture's database is `loaded`'s)."""
    yield client


def sign_in_as(client: TestClient, role: str, next_path: str = "/") -> None:
    response = client.post("/sign-in", data={"demo_user": role, "next": next_path}, follow_redirects=False)
    assert response.status_code == 303, response.text
