"""Fixtures that build real things: a migrated SQLite file and a real PostgreSQL server, a fresh database each.

Every store test runs on both databases (the `database_url` fixture is parametrised). A migrated template is
made once per session and per backend; each test gets its own copy, so tests never see each other's data.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings
from hypothesis.configuration import set_hypothesis_home_dir
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

# Hypothesis writes nothing into the checkout: by default it makes ./.hypothesis (its example database and a cache
# of the constants in our modules) as soon as the property tests are collected, and tests/test_collection.py holds
# collection to writing nothing. Its folder is a temporary one, and it keeps no example database: the property
# tests are derandomised or bounded, so a failure is reproduced by running the test again.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "joinedup-hypothesis")
hypothesis_settings.register_profile("joinedup", database=None)
hypothesis_settings.load_profile("joinedup")


def shared_path(*parts: str) -> Path:
    """A path in ../shared, or a skip with the reason when a fresh clone has none beside it."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared is absent ({path} not found): shared test material lives beside the project in CI")
    return path


# Key files that apps, CLI runs and servers started by tests make on first use: the pseudonymisation key, the session
# cookie's signing key (decision 0311), the audit keyring, the checkpoint signing key and the checkpoint file (0312);
# and the person index's blocking tables for PostgreSQL stores.
KEY_FILES = {
    "JOINEDUP_PSEUDONYM_KEY_FILE": "pseudonym.key",
    "JOINEDUP_SESSION_SECRET_FILE": "session.key",
    "JOINEDUP_AUDIT_KEY_FILE": "audit.key",
    "JOINEDUP_AUDIT_SIGNING_KEY_FILE": "audit-signing.key",
    "JOINEDUP_AUDIT_CHECKPOINT_FILE": "audit-checkpoints.jsonl",
    "JOINEDUP_PERSON_INDEX_KEYS_DIR": "person-index",  # the blocking tables of PostgreSQL stores
}


@pytest.fixture(scope="session", autouse=True)
def key_files_outside_the_checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every key file (and blocking table) the suite makes goes to a temporary folder, never to ./var of the
    checkout it runs from."""
    folder = tmp_path_factory.mktemp("keys")
    before = {variable: os.environ.get(variable) for variable in KEY_FILES}
    os.environ.update({variable: str(folder / name) for variable, name in KEY_FILES.items()})
    yield
    for variable, value in before.items():
        if value is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = value


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
    """A test deployment; its TestClient is in-process, as private as a server on loopback (demo sign-in offered)."""
    return Settings(
        database_url=database_url, environment="test", export_dir=tmp_path / "exports", max_request_bytes=1024 * 1024,
        served_on_loopback=True,
    )  # fmt: skip


SYSTEM_CLIENT = "tests-system"
SYSTEM_SCOPES = "system/*.cruds"


def system_bearer(client: TestClient) -> dict[str, str]:
    """The Authorization header of a system client, registered and given its token as `joinedup clients register`
    and the token endpoint do for a real integration (decision 0311: a request without credentials is nobody)."""
    secret = secrets.token_urlsafe(24)
    tokens = client.app.state.services.gate.tokens  # type: ignore[attr-defined]
    tokens.register_client(SYSTEM_CLIENT, secret, "The tests' system client", "system", None, SYSTEM_SCOPES)
    issued = client.post(
        "/auth/token", data={"grant_type": "client_credentials", "scope": SYSTEM_SCOPES}, auth=(SYSTEM_CLIENT, secret)
    )
    assert issued.status_code == 200, issued.text
    return {"Authorization": f"Bearer {issued.json()['access_token']}"}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The app's TestClient, calling as a registered system client (its bearer token on every request)."""
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as test_client:
        test_client.headers.update(system_bearer(test_client))
        yield test_client


@pytest.fixture
def anonymous_client(settings: Settings) -> Iterator[TestClient]:
    """A TestClient of its own app on the same database, with no credentials at all: for the refusals."""
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as test_client:
        yield test_client
