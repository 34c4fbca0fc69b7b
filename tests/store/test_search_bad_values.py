"""Bad search input is a 400 OperationOutcome naming the parameter in issue[0].expression."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from ..fixtures import patient
from .test_search_support import BACKENDS, bad_request_expression, seeded_client


@pytest.fixture(scope="module", params=BACKENDS)
def client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with seeded_client(request, tmp_path_factory, [patient("p1")]) as seeded:
        yield seeded


@pytest.mark.parametrize(
    ("resource_type", "key", "value", "named"),
    [
        ("Patient", "birthdate", "2020-13-45", "birthdate"),
        ("Patient", "birthdate", "yesterday", "birthdate"),
        ("Patient", "birthdate", "gt", "birthdate"),
        ("Patient", "birthdate", "2020-02-30", "birthdate"),
        ("Observation", "date", "2021-06-15T25:00:00Z", "date"),
        ("Patient", "_lastUpdated", "soon", "_lastUpdated"),
        ("RiskAssessment", "probability", "abc", "probability"),
        ("RiskAssessment", "probability", "gtx", "probability"),
        ("RiskAssessment", "probability", "1,two", "probability"),
        ("Observation", "value-quantity", "five|http://unitsofmeasure.org|mg", "value-quantity"),
        ("Patient", "family:foo", "x", "family:foo"),  # unknown modifier
        ("Patient", "family:not", "x", "family:not"),  # a modifier of another type
        ("Patient", "birthdate:exact", "2020", "birthdate:exact"),
        ("Condition", "code:in", "http://example.org/vs", "code:in"),  # a terminology modifier we do not offer
        ("Patient", "active:missing", "maybe", "active:missing"),
        ("Patient", "general-practitioner.family", "jones", "general-practitioner.family"),  # chain needs a type
        ("Observation", "subject.name", "x", "subject.name"),
        ("Observation", "subject:Medication.code", "x", "subject:Medication.code"),  # not a target of subject
        ("Observation", "subject:Nonsense.name", "x", "subject:Nonsense.name"),
        ("Observation", "code.text", "x", "code.text"),  # only references chain
        ("Observation", "subject:Patient.shoe-size", "9", "shoe-size"),  # chained unknown parameter
        ("Observation", "subject:Patient.birthdate", "notadate", "birthdate"),
        ("Patient", "_has:Observation:nonsense:code", "x", "_has:Observation:nonsense:code"),
        ("Patient", "_has:Nonsense:patient:code", "x", "_has:Nonsense:patient:code"),
        ("Patient", "_has:Observation", "x", "_has:Observation"),
        ("Patient", "family", "", "family"),  # empty value
        ("Patient", "_count", "lots", "_count"),
        ("Patient", "_count", "-1", "_count"),
        ("Patient", "_sort", "shoe-size", "_sort"),
        ("Patient", "_total", "some", "_total"),
        ("Patient", "_summary", "brief", "_summary"),
        ("Patient", "_include", "Nonsense:thing", "_include"),
        ("Patient", "_include", "Patient:family", "_include"),  # not a reference parameter
        ("Patient", "_revinclude", "Observation", "_revinclude"),
    ],
)
def test_bad_value_names_the_parameter(
    client: TestClient, resource_type: str, key: str, value: str, named: str
) -> None:
    response = client.get(f"/fhir/{resource_type}", params={key: value})
    assert bad_request_expression(response) == named


def test_bad_value_in_post_search(client: TestClient) -> None:
    response = client.post("/fhir/Patient/_search", data={"birthdate": "not-a-date"})
    assert bad_request_expression(response) == "birthdate"


def test_bad_value_in_compartment_search(client: TestClient) -> None:
    response = client.get("/fhir/Patient/p1/Condition", params={"onset-date": "ge-soon"})
    assert bad_request_expression(response) == "onset-date"


def test_unknown_resource_type_is_not_found(client: TestClient) -> None:
    assert client.get("/fhir/Nonsense", params={"name": "x"}).status_code == 404
