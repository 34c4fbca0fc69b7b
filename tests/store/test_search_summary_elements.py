"""_summary (true, text, data, count) and _elements cut the matches down and mark them SUBSETTED."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ..fixtures import patient
from .test_search_support import BACKENDS, seeded_client

SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"}


def _resources() -> list[dict[str, Any]]:
    full = patient(
        "p1",
        family="Able",
        text={"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">Ann Able</div>'},
        contact=[{"name": {"family": "Able", "given": ["Bob"]}}],
        meta={"tag": [{"system": "http://example.org/tags", "code": "vip"}]},
    )
    return [full, patient("p2", family="Baker")]


@pytest.fixture(scope="module", params=BACKENDS)
def client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with seeded_client(request, tmp_path_factory, _resources()) as seeded:
        yield seeded


def _first(client: TestClient, params: dict[str, str]) -> dict[str, Any]:
    response = client.get("/fhir/Patient", params={"_id": "p1", **params})
    assert response.status_code == 200, response.text
    entries = response.json()["entry"]
    assert len(entries) == 1
    resource: dict[str, Any] = entries[0]["resource"]
    return resource


def test_full_resource_is_not_subsetted(client: TestClient) -> None:
    resource = _first(client, {})
    assert {"text", "contact", "name", "gender"} <= resource.keys()
    assert SUBSETTED not in resource["meta"].get("tag", [])


def test_summary_true(client: TestClient) -> None:
    resource = _first(client, {"_summary": "true"})
    assert {"resourceType", "id", "meta", "name", "gender", "birthDate", "identifier"} <= resource.keys()
    assert "text" not in resource
    assert "contact" not in resource
    assert SUBSETTED in resource["meta"]["tag"]
    assert {"system": "http://example.org/tags", "code": "vip"} in resource["meta"]["tag"]  # existing tags kept


def test_summary_text_and_data(client: TestClient) -> None:
    text = _first(client, {"_summary": "text"})
    assert set(text) == {"resourceType", "id", "meta", "text"}
    assert SUBSETTED in text["meta"]["tag"]
    data = _first(client, {"_summary": "data"})
    assert "text" not in data
    assert {"contact", "name"} <= data.keys()
    assert SUBSETTED in data["meta"]["tag"]


def test_summary_false_is_the_whole_resource(client: TestClient) -> None:
    assert "text" in _first(client, {"_summary": "false"})


def test_elements(client: TestClient) -> None:
    resource = _first(client, {"_elements": "name,gender"})
    assert set(resource) == {"resourceType", "id", "meta", "name", "gender"}
    assert SUBSETTED in resource["meta"]["tag"]
    assert resource["name"] == [{"family": "Able", "given": ["Ann"]}]


def test_summary_count(client: TestClient) -> None:
    body = client.get("/fhir/Patient", params={"_summary": "count"}).json()
    assert body["total"] == 2
    assert body.get("entry", []) == []


def test_stored_resource_is_untouched(client: TestClient) -> None:
    _first(client, {"_elements": "name"})
    read = client.get("/fhir/Patient/p1").json()
    assert "contact" in read
    assert SUBSETTED not in read["meta"].get("tag", [])
