"""Patient compartment search: /fhir/Patient/{id}/{type}, with criteria and paging, and in the store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from joinedup.fhir.errors import NotFound
from joinedup.fhir.search_request import parse_search
from joinedup.store.context import SYSTEM
from joinedup.store.engine import make_engine
from joinedup.store.fhir_store import FhirStore

from ..fixtures import condition, encounter, observation, patient
from .test_search_support import BACKENDS, bundle_ids, seeded_client


def _resources() -> list[dict[str, Any]]:
    return [
        patient("p1", family="Able"),
        patient("p2", family="Baker"),
        condition("c1", "p1", "44054006", onset="2020-01-01"),
        condition("c2", "p1", "38341003", onset="2022-01-01"),
        condition("c3", "p1", "195967001", onset="2023-01-01"),
        condition("c4", "p2", "44054006"),
        observation("o1", "p1", "1234", 5.0),
        observation("o2", "p2", "1234", 6.0),
        encounter("e1", "p1", "2024-01-01", "2024-01-02"),
    ]


@pytest.fixture(scope="module", params=BACKENDS)
def client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with seeded_client(request, tmp_path_factory, _resources()) as seeded:
        yield seeded


def _ids(client: TestClient, url: str, params: dict[str, str] | None = None) -> list[str]:
    response = client.get(url, params=params)
    assert response.status_code == 200, response.text
    return sorted(bundle_ids(response.json()))


def test_compartment_holds_only_the_patients_resources(client: TestClient) -> None:
    assert _ids(client, "/fhir/Patient/p1/Condition") == ["c1", "c2", "c3"]
    assert _ids(client, "/fhir/Patient/p2/Condition") == ["c4"]
    assert _ids(client, "/fhir/Patient/p1/Observation") == ["o1"]
    assert _ids(client, "/fhir/Patient/p1/Encounter") == ["e1"]
    assert _ids(client, "/fhir/Patient/p2/Encounter") == []


def test_compartment_with_criteria(client: TestClient) -> None:
    assert _ids(client, "/fhir/Patient/p1/Condition", {"code": "44054006"}) == ["c1"]
    assert _ids(client, "/fhir/Patient/p1/Condition", {"onset-date": "ge2022"}) == ["c2", "c3"]
    assert _ids(client, "/fhir/Patient/p2/Condition", {"code": "38341003"}) == []


def test_compartment_paging_and_total(client: TestClient) -> None:
    params = {"_count": "2", "_sort": "onset-date"}
    first = client.get("/fhir/Patient/p1/Condition", params={**params, "_total": "accurate"}).json()
    assert first["total"] == 3
    assert bundle_ids(first) == ["c1", "c2"]
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    assert "/Patient/p1/Condition?" in next_url
    last = client.get(next_url).json()
    assert bundle_ids(last) == ["c3"]
    assert last["total"] == 3
    assert "total" not in client.get("/fhir/Patient/p1/Condition", params=params).json()  # not asked, not free


def test_unknown_patient_is_not_found(client: TestClient) -> None:
    response = client.get("/fhir/Patient/nobody/Condition")
    assert response.status_code == 404


def test_store_compartment_search(client: TestClient) -> None:
    url = make_url(client.app.state.services.settings.database_url)  # type: ignore[attr-defined]
    store = FhirStore(make_engine(url.render_as_string(hide_password=False)))
    try:
        page = store.compartment_search(SYSTEM, "p1", parse_search("Condition", [("_sort", "-onset-date")]))
        assert [r["id"] for r in page.matches] == ["c3", "c2", "c1"]
        assert page.total == 3
        with pytest.raises(NotFound):
            store.compartment_search(SYSTEM, "nobody", parse_search("Condition", []))
    finally:
        store.engine.dispose()


def test_includes_over_the_api_are_marked_include(client: TestClient) -> None:
    body = client.get("/fhir/Condition", params={"_id": "c1", "_include": "Condition:subject"}).json()
    assert bundle_ids(body) == ["c1"]
    assert bundle_ids(body, "include") == ["p1"]
    posted = client.post("/fhir/Patient/_search", data={"_id": "p2", "_revinclude": "Condition:subject"}).json()
    assert bundle_ids(posted) == ["p2"]
    assert bundle_ids(posted, "include") == ["c4"]
    assert posted["total"] == 1  # includes are not counted


def test_reference_by_absolute_url_of_a_remote_server(client: TestClient) -> None:
    assert _ids(client, "/fhir/Condition", {"subject": "http://elsewhere.example/fhir/Patient/p1"}) == []


def test_reference_by_absolute_url_of_this_server(client: TestClient) -> None:
    base = client.app.state.services.settings.fhir_base  # type: ignore[attr-defined]
    assert _ids(client, "/fhir/Condition", {"subject": f"{base}/Patient/p1"}) == ["c1", "c2", "c3"]
