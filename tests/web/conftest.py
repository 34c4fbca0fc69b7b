"""A client on a database holding the generated place (both databases), and signing in as a demo user."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from joinedup.store.engine import make_engine
from joinedup.store.fhir_store import FhirStore
from joinedup.web.csrf import CSRF_HEADER

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


def csrf_of(page: str) -> str:
    """The CSRF token a page's forms carry."""
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the form carries a CSRF token"
    return found.group(1)


def sign_in_as(client: TestClient, role: str, next_path: str = "/") -> None:
    """Sign in with the demo sign-in form, then send the new session's CSRF token with every later form (as the
    X-CSRF-Token header: the pages' forms carry it as a field, which tests/web/test_nothing_open.py checks)."""
    client.headers.pop(CSRF_HEADER, None)
    token = csrf_of(client.get("/sign-in").text)
    data = {"demo_user": role, "next": next_path, "csrf": token}
    response = client.post("/sign-in", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    client.headers[CSRF_HEADER] = csrf_of(client.get("/sign-in").text)  # signing in starts a new session
