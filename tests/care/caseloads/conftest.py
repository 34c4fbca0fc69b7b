"""The web tests' client and place (tests/web/conftest.py), with the caseload tests' work loaded on top."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from joinedup.store.engine import make_engine
from joinedup.store.fhir_store import FhirStore

from ...web.conftest import loaded, web
from . import work

__all__ = ["loaded", "web", "with_work"]


@pytest.fixture
def with_work(loaded: str, web: TestClient) -> Iterator[TestClient]:
    """The signed-out client on the place with the hand-built episodes, tasks and residence (work.py)."""
    store = FhirStore(make_engine(loaded))
    work.load(store)
    store.engine.dispose()
    yield web
