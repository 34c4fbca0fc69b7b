"""Shared helpers for the search tests (no tests of its own).

Search tests only read, so each module seeds one database per backend (module scope) and runs many searches
against it: a fresh database per test would spend most of the suite's time cloning. The backends are the same
pair the function-scoped `store` fixture in tests/conftest.py uses, built from the same session templates.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from joinedup.app import create_app
from joinedup.fhir.search_request import parse_search
from joinedup.settings import Settings
from joinedup.store.context import SYSTEM
from joinedup.store.engine import make_engine
from joinedup.store.fhir_store import FhirStore
from joinedup.store.results import SearchPage

from ..conftest import system_bearer
from ..support.postgres_server import PostgresServer

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
Params = str | Sequence[tuple[str, str]]


@contextmanager
def module_database(request: pytest.FixtureRequest, directory: Path) -> Iterator[str]:
    """A freshly migrated database for one module on the backend named by request.param."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = directory / "search.sqlite3"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    template_url: str = request.getfixturevalue("postgres_template")
    name = f"s_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template_url).database}"'))
    admin.dispose()
    try:
        yield make_url(template_url).set(database=name).render_as_string(hide_password=False)
    finally:
        server.drop_database(name)


def load(store: FhirStore, resources: Iterable[dict[str, Any]]) -> None:
    for resource in resources:
        store.update(SYSTEM, resource["resourceType"], resource["id"], resource)


@contextmanager
def seeded_store(
    request: pytest.FixtureRequest, factory: pytest.TempPathFactory, resources: Iterable[dict[str, Any]]
) -> Iterator[FhirStore]:
    with module_database(request, factory.mktemp("search")) as url:
        store = FhirStore(make_engine(url))
        load(store, resources)
        yield store
        store.engine.dispose()


@contextmanager
def seeded_client(
    request: pytest.FixtureRequest, factory: pytest.TempPathFactory, resources: Iterable[dict[str, Any]]
) -> Iterator[TestClient]:
    directory = factory.mktemp("search-api")
    with module_database(request, directory) as url:
        seeding = FhirStore(make_engine(url))
        load(seeding, resources)
        seeding.engine.dispose()
        settings = Settings(
            database_url=url, environment="test", export_dir=directory / "exports", max_request_bytes=1024 * 1024
        )
        with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
            client.headers.update(system_bearer(client))
            yield client


def pairs(params: Params) -> list[tuple[str, str]]:
    """'a=1&b=2' (no '+' or '%' in values) or a list of pairs, as the search parser takes them."""
    if isinstance(params, str):
        return parse_qsl(params, keep_blank_values=True)
    return list(params)


def run(store: FhirStore, resource_type: str, params: Params) -> SearchPage:
    return store.search(SYSTEM, parse_search(resource_type, pairs(params)))


def ids(store: FhirStore, resource_type: str, params: Params) -> set[str]:
    """The ids of every match (the test data is far below the default page size)."""
    page = run(store, resource_type, params)
    assert not page.has_next
    return {r["id"] for r in page.matches}


def ordered_ids(store: FhirStore, resource_type: str, params: Params) -> list[str]:
    return [r["id"] for r in run(store, resource_type, params).matches]


def bundle_ids(bundle: dict[str, Any], mode: str = "match") -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode]


def bad_request_expression(response: Any) -> str:
    """The first issue's expression of a 400 OperationOutcome."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    expression: list[str] = body["issue"][0]["expression"]
    return expression[0]
