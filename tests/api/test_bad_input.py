"""Bad input gets the right 4xx and an OperationOutcome naming the problem and where it is; nothing is written."""

from __future__ import annotations

import orjson
from fastapi.testclient import TestClient

from ..fixtures import patient

FHIR = {"Content-Type": "application/fhir+json"}


def _issue(response_json: dict[str, object]) -> dict[str, object]:
    assert response_json["resourceType"] == "OperationOutcome"
    issues = response_json["issue"]
    assert isinstance(issues, list) and issues
    first = issues[0]
    assert isinstance(first, dict)
    return first


def _nothing_stored(client: TestClient) -> None:
    assert client.get("/fhir/_history").json()["total"] == 0


def test_malformed_json(client: TestClient) -> None:
    response = client.post("/fhir/Patient", content=b'{"resourceType": "Patient", ', headers=FHIR)
    assert response.status_code == 400
    issue = _issue(response.json())
    assert "Malformed JSON" in str(issue["diagnostics"]) and issue["expression"]
    _nothing_stored(client)


def test_resource_type_must_match_the_url(client: TestClient) -> None:
    response = client.post("/fhir/Observation", json=patient("p1"), headers=FHIR)
    assert response.status_code == 400
    assert _issue(response.json())["expression"] == ["resourceType"]
    _nothing_stored(client)


def test_unknown_element(client: TestClient) -> None:
    response = client.put("/fhir/Patient/p1", json={**patient("p1"), "favouriteColour": "blue"}, headers=FHIR)
    assert response.status_code == 400
    assert _issue(response.json())["expression"] == ["Patient.favouriteColour"]
    _nothing_stored(client)


def test_wrong_datatype_and_cardinality(client: TestClient) -> None:
    wrong_type = client.put("/fhir/Patient/p1", json={**patient("p1"), "birthDate": "yesterday"}, headers=FHIR)
    assert wrong_type.status_code == 400 and _issue(wrong_type.json())["expression"] == ["Patient.birthDate"]
    not_a_list = client.put("/fhir/Patient/p1", json={**patient("p1"), "name": {"family": "X"}}, headers=FHIR)
    assert not_a_list.status_code == 400 and _issue(not_a_list.json())["expression"] == ["Patient.name"]
    missing = client.post("/fhir/Observation", json={"resourceType": "Observation", "status": "final"}, headers=FHIR)
    assert missing.status_code == 400 and _issue(missing.json())["expression"] == ["Observation.code"]
    _nothing_stored(client)


def test_nhs_number_failing_modulo_11(client: TestClient) -> None:
    response = client.put("/fhir/Patient/p1", json=patient("p1", nhs="9434765918"), headers=FHIR)
    assert response.status_code == 400
    issue = _issue(response.json())
    assert "Modulo 11" in str(issue["diagnostics"])
    assert issue["expression"] == ["Patient.identifier[0].value"]
    _nothing_stored(client)


def test_unknown_search_parameter_lenient_and_strict(client: TestClient) -> None:
    lenient = client.get("/fhir/Patient?colour=blue&family=Smith")
    assert lenient.status_code == 200
    self_link = next(link["url"] for link in lenient.json()["link"] if link["relation"] == "self")
    assert "colour" not in self_link and "family=Smith" in self_link
    strict = client.get("/fhir/Patient?colour=blue", headers={"Prefer": "handling=strict"})
    assert strict.status_code == 400
    assert _issue(strict.json())["expression"] == ["colour"]


def test_resource_type_r4_does_not_define(client: TestClient) -> None:
    for response in (
        client.get("/fhir/Spaceship"),
        client.get("/fhir/Spaceship/1"),
        client.post("/fhir/SubscriptionTopic", json={"resourceType": "SubscriptionTopic"}, headers=FHIR),
    ):
        assert response.status_code == 404
        assert _issue(response.json())["code"] == "not-supported"


def test_oversized_request_is_refused_before_reading(client: TestClient) -> None:
    big = {**patient("p1"), "text": {"status": "generated", "div": "<div>" + "x" * 2_000_000 + "</div>"}}
    response = client.put("/fhir/Patient/p1", content=orjson.dumps(big), headers=FHIR)
    assert response.status_code == 413
    _nothing_stored(client)


def test_transaction_referring_to_nothing_is_undone_whole(client: TestClient) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": "urn:uuid:1", "resource": patient("x"), "request": {"method": "POST", "url": "Patient"}},
            {
                "resource": {
                    "resourceType": "Condition",
                    "subject": {"reference": "Patient/does-not-exist"},
                    "code": {"text": "x"},
                },
                "request": {"method": "POST", "url": "Condition"},
            },
        ],
    }
    response = client.post("/fhir", json=bundle, headers=FHIR)
    assert response.status_code == 422
    assert _issue(response.json())["expression"] == ["Bundle.entry[1].resource.subject.reference"]
    _nothing_stored(client)


def test_bad_search_values(client: TestClient) -> None:
    assert client.get("/fhir/Patient?birthdate=notadate").status_code == 400
    assert client.get("/fhir/Patient?_count=lots").status_code == 400
    assert client.get("/fhir/Patient?family:wrong=x").status_code == 400
    assert client.get("/fhir/Observation?value-quantity=abc").status_code == 400
