"""Fixtures that build real things: a migrated SQLite file and a real PostgreSQL server, a fresh database each.

Every store test runs on both databases (the `database_url` fixture is parametrised). A migrated template is
made once per session and per backend; each test gets its own copy, so tests never see each other's data.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from joinedup.app import create_app
from joinedup.settings import Settings
from joinedup.store.engine import make_engine
from joinedup.store.fhir_store import FhirStore
from joinedup.store.migrate import upgrade

from .support.postgres_server import PostgresServer
from .support.xdist_groups import pytest_collection_modifyitems  # noqa: F401  (the hook: xdist groups on pytest 9.2)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path in ../shared, or a skip with the reason when a fresh clone has none beside it."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared is absent ({path} not found): shared test material lives beside the project in CI")
    return path


@pytest.fixture(scope="session", autouse=True)
def pseudonym_key_outside_the_checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Apps built by tests (and servers they start) keep the pseudonymisation key file in a temporary folder, not
    in ./var of the checkout the suite runs from."""
    variable = "JOINEDUP_PSEUDONYM_KEY_FILE"
    before = os.environ.get(variable)
    os.environ[variable] = str(tmp_path_factory.mktemp("keys") / "pseudonym.key")
    yield
    if before is None:
        os.environ.pop(variable, None)
    else:
        os.environ[variable] = before


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    url = postgres_server.create_database("joinedup_template")
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


def _clone_postgres(server: PostgresServer, template_url: str) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    template = make_url(template_url).database
    engine = create_engine(server.admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    engine.dispose()
    return make_url(template_url).set(database=name).render_as_string(hide_password=False)


def migrated_database(
    request: pytest.FixtureRequest, folder: Path, file_name: str = "joinedup.sqlite3"
) -> Iterator[str]:
    """A freshly migrated, empty database on the backend the fixture's param names (an SQLite file in `folder`, or
    a PostgreSQL database cloned from the template and dropped afterwards)."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = folder / file_name
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = _clone_postgres(server, request.getfixturevalue("postgres_template"))
    yield url
    server.drop_database(make_url(url).database or "")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated, empty database on each backend."""
    yield from migrated_database(request, tmp_path)


@pytest.fixture
def store(database_url: str) -> Iterator[FhirStore]:
    fhir_store = FhirStore(make_engine(database_url))
    yield fhir_store
    fhir_store.engine.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url, environment="test", export_dir=tmp_path / "exports", max_request_bytes=1024 * 1024
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as test_client:
        yield test_client
