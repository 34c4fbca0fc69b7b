"""Patient/$everything and Bulk Data $export."""

from __future__ import annotations

import time

import orjson
from fastapi.testclient import TestClient

from ..fixtures import condition, encounter, organization, patient

FHIR = {"Content-Type": "application/fhir+json"}


def _person_with_records(client: TestClient) -> None:
    client.put("/fhir/Organization/o1", json=organization("o1", "Salford Royal"), headers=FHIR)
    client.put("/fhir/Patient/p1", json=patient("p1"), headers=FHIR)
    client.put("/fhir/Patient/p2", json=patient("p2", family="Other"), headers=FHIR)
    for n in range(5):
        client.put(f"/fhir/Condition/c{n}", json=condition(f"c{n}", "p1", f"1000{n}"), headers=FHIR)
    client.put("/fhir/Encounter/e1", json=encounter("e1", "p1", "2024-01-01", "2024-01-03", org="o1"), headers=FHIR)
    client.put("/fhir/Condition/other", json=condition("other", "p2", "1"), headers=FHIR)


def test_everything_pages_through_the_compartment_and_what_it_refers_to(client: TestClient) -> None:
    _person_with_records(client)
    first = client.get("/fhir/Patient/p1/$everything?_count=4").json()
    assert first["total"] == 8  # the patient, 5 conditions, the encounter, its organisation
    ids = [e["resource"]["id"] for e in first["entry"]]
    assert ids[0] == "p1"
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = client.get(next_url.replace("http://127.0.0.1:8000", "")).json()
    ids += [e["resource"]["id"] for e in second["entry"]]
    assert sorted(ids) == sorted(["p1", "c0", "c1", "c2", "c3", "c4", "e1", "o1"])
    only = client.get("/fhir/Patient/p1/$everything?_type=Encounter").json()
    assert [e["resource"]["id"] for e in only["entry"]] == ["e1"]
    assert client.get("/fhir/Patient/nobody/$everything").status_code == 404


def test_compartment_search(client: TestClient) -> None:
    _person_with_records(client)
    found = client.get("/fhir/Patient/p1/Condition?code=10001").json()
    assert [e["resource"]["id"] for e in found["entry"]] == ["c1"]
    assert client.get("/fhir/Patient/p1/Condition").json()["total"] == 5


def _wait_for(client: TestClient, status_url: str) -> dict[str, object]:
    for _ in range(200):
        response = client.get(status_url)
        if response.status_code != 202:
            assert response.status_code == 200, response.text
            body: dict[str, object] = response.json()
            return body
        time.sleep(0.05)
    raise AssertionError("export did not finish")


def test_system_and_patient_export(client: TestClient) -> None:
    _person_with_records(client)
    refused = client.get("/fhir/$export")
    assert refused.status_code == 400
    kick = client.get("/fhir/$export?_type=Patient,Condition", headers={"Prefer": "respond-async"})
    assert kick.status_code == 202
    manifest = _wait_for(client, kick.headers["Content-Location"].replace("http://127.0.0.1:8000", ""))
    outputs = {o["type"]: o for o in manifest["output"]}  # type: ignore[union-attr]
    assert outputs["Patient"]["count"] == 2 and outputs["Condition"]["count"] == 6
    lines = client.get(outputs["Condition"]["url"].replace("http://127.0.0.1:8000", "")).content.splitlines()
    assert {orjson.loads(line)["resourceType"] for line in lines} == {"Condition"}

    group = {
        "resourceType": "Group",
        "id": "g1",
        "type": "person",
        "actual": True,
        "member": [{"entity": {"reference": "Patient/p2"}}],
    }
    client.put("/fhir/Group/g1", json=group, headers=FHIR)
    kick = client.get("/fhir/Group/g1/$export?_type=Condition", headers={"Prefer": "respond-async"})
    manifest = _wait_for(client, kick.headers["Content-Location"].replace("http://127.0.0.1:8000", ""))
    assert [o["count"] for o in manifest["output"]] == [1]  # type: ignore[union-attr]
