"""The REST interactions: create, read, vread, update, conditional forms, patch, delete, history, ETags, Prefer."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ..fixtures import condition, patient

FHIR = {"Content-Type": "application/fhir+json"}


def test_create_read_update_delete_and_history(client: TestClient) -> None:
    created = client.post("/fhir/Patient", json=patient("ignored", family="Okafor"), headers=FHIR)
    assert created.status_code == 201
    body = created.json()
    pid = body["id"]
    assert pid != "ignored"
    assert created.headers["ETag"] == 'W/"1"'
    assert created.headers["Location"].endswith(f"/fhir/Patient/{pid}/_history/1")
    assert created.headers["content-type"].startswith("application/fhir+json")

    read = client.get(f"/fhir/Patient/{pid}")
    assert read.status_code == 200 and read.json()["name"][0]["family"] == "Okafor"
    assert read.headers["ETag"] == 'W/"1"'

    body["name"][0]["family"] = "Okafor-Smith"
    updated = client.put(f"/fhir/Patient/{pid}", json=body, headers=FHIR)
    assert updated.status_code == 200 and updated.json()["meta"]["versionId"] == "2"

    assert client.get(f"/fhir/Patient/{pid}/_history/1").json()["name"][0]["family"] == "Okafor"
    assert client.delete(f"/fhir/Patient/{pid}").status_code == 204
    assert client.get(f"/fhir/Patient/{pid}").status_code == 410
    history = client.get(f"/fhir/Patient/{pid}/_history").json()
    assert history["type"] == "history" and history["total"] == 3
    assert [e["request"]["method"] for e in history["entry"]] == ["DELETE", "PUT", "POST"]


def test_update_with_client_assigned_id_creates(client: TestClient) -> None:
    response = client.put("/fhir/Patient/gp-000123", json=patient("gp-000123"), headers=FHIR)
    assert response.status_code == 201
    assert client.get("/fhir/Patient/gp-000123").status_code == 200


def test_stale_if_match_gets_412(client: TestClient) -> None:
    client.put("/fhir/Patient/p1", json=patient("p1", family="A"), headers=FHIR)
    client.put("/fhir/Patient/p1", json=patient("p1", family="B"), headers=FHIR)
    stale = client.put("/fhir/Patient/p1", json=patient("p1", family="C"), headers={**FHIR, "If-Match": 'W/"1"'})
    assert stale.status_code == 412
    assert stale.json()["resourceType"] == "OperationOutcome"
    fresh = client.put("/fhir/Patient/p1", json=patient("p1", family="C"), headers={**FHIR, "If-Match": 'W/"2"'})
    assert fresh.status_code == 200


def test_conditional_create_returns_the_existing_match(client: TestClient) -> None:
    resource = patient("x", nhs="9434765919")
    del resource["id"]
    headers = {**FHIR, "If-None-Exist": "identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919"}
    first = client.post("/fhir/Patient", json=resource, headers=headers)
    second = client.post("/fhir/Patient", json=resource, headers=headers)
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert client.get("/fhir/Patient").json()["total"] == 1


def test_conditional_update_creates_then_updates(client: TestClient) -> None:
    url = "/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919"
    resource = patient("x", nhs="9434765919")
    del resource["id"]
    first = client.put(url, json=resource, headers=FHIR)
    assert first.status_code == 201
    resource["gender"] = "male"
    second = client.put(url, json=resource, headers=FHIR)
    assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
    assert second.json()["meta"]["versionId"] == "2"


def test_json_patch(client: TestClient) -> None:
    client.put("/fhir/Patient/p1", json=patient("p1"), headers=FHIR)
    patch = [{"op": "replace", "path": "/gender", "value": "male"}]
    response = client.patch("/fhir/Patient/p1", json=patch, headers={"Content-Type": "application/json-patch+json"})
    assert response.status_code == 200 and response.json()["gender"] == "male"
    assert response.json()["meta"]["versionId"] == "2"
    bad = [{"op": "replace", "path": "/nothing/here", "value": 1}]
    refused = client.patch("/fhir/Patient/p1", json=bad, headers={"Content-Type": "application/json-patch+json"})
    assert refused.status_code == 400
    assert client.get("/fhir/Patient/p1").json()["meta"]["versionId"] == "2"


def test_prefer_return(client: TestClient) -> None:
    minimal = client.post("/fhir/Patient", json=patient("a"), headers={**FHIR, "Prefer": "return=minimal"})
    assert minimal.status_code == 201 and minimal.content == b"" and "Location" in minimal.headers
    outcome = client.post("/fhir/Patient", json=patient("b"), headers={**FHIR, "Prefer": "return=OperationOutcome"})
    assert outcome.json()["resourceType"] == "OperationOutcome"


def test_type_and_system_history(client: TestClient) -> None:
    client.put("/fhir/Patient/p1", json=patient("p1"), headers=FHIR)
    client.put("/fhir/Condition/c1", json=condition("c1", "p1", "44054006"), headers=FHIR)
    assert client.get("/fhir/Patient/_history").json()["total"] == 1
    system = client.get("/fhir/_history").json()
    assert system["total"] == 2
    assert {e["resource"]["resourceType"] for e in system["entry"]} == {"Patient", "Condition"}


def test_capability_statement(client: TestClient) -> None:
    statement = client.get("/fhir/metadata").json()
    assert statement["resourceType"] == "CapabilityStatement" and statement["fhirVersion"] == "4.0.1"
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert "Claim" in resources and "Bundle" not in resources
    names = {p["name"] for p in resources["Patient"]["searchParam"]}
    assert {"identifier", "family", "birthdate", "_id", "_lastUpdated"} <= names
