"""The person index through the FHIR API: Patients placed as they are written, the review flow, merge and unmerge
with nothing lost, every step in the Person's history and recorded as Provenance."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from joinedup.app import create_app
from joinedup.identity.index_store import PURPOSE, IndexStore
from joinedup.identity.model import LinkageModel
from joinedup.settings import Settings

from ..conftest import SYSTEM_CLIENT, system_bearer
from ..fixtures import condition
from .people import Person, moved_address, patient
from .store_place import sourced

FHIR = {"Content-Type": "application/fhir+json"}
REVIEW_QUEUE = "/fhir/Task?code=https://joinedup.example/fhir/CodeSystem/person-index|link-review&status=requested"


def _client(settings: Settings, model: LinkageModel, upper: float) -> Iterator[TestClient]:
    tuned = settings.model_copy(update={"identity_link_threshold": upper})
    with TestClient(create_app(tuned), base_url="http://127.0.0.1:8000") as client:
        IndexStore(client.app.state.services.gate.for_system(PURPOSE)).save_model(model)  # type: ignore[attr-defined]
        client.headers.update(system_bearer(client))
        yield client


@pytest.fixture
def api(settings: Settings, model: LinkageModel) -> Iterator[TestClient]:
    yield from _client(settings, model, 0.99)


@pytest.fixture
def cautious_api(settings: Settings, model: LinkageModel) -> Iterator[TestClient]:
    """An upper threshold no probabilistic pair reaches: every non-deterministic match goes to review."""
    yield from _client(settings, model, 0.999999999)


def _put(client: TestClient, source: str, resource: dict[str, Any]) -> None:
    response = client.put(f"/fhir/{resource['resourceType']}/{resource['id']}", json=sourced(source, resource))
    assert response.status_code in (200, 201), response.text


def _person_of(client: TestClient, patient_id: str) -> dict[str, Any]:
    found = client.get(f"/fhir/Person?link=Patient/{patient_id}").json()
    persons = [e["resource"] for e in found.get("entry", []) if e["resource"].get("active")]
    assert len(persons) == 1, f"{patient_id} is in {len(persons)} active Persons"
    person: dict[str, Any] = persons[0]
    return person


def _links(person: dict[str, Any]) -> dict[str, str]:
    return {
        link["target"]["reference"].split("/")[1]: link["assurance"]
        for link in person.get("link", [])
        if link["target"]["reference"].startswith("Patient/")
    }


def test_patients_are_placed_as_they_are_written(api: TestClient, people: list[Person]) -> None:
    same_nhs = people[0]
    nickname = next(p for p in people[1:] if p.nickname)
    _put(api, "gp", patient(same_nhs, "g-det", nhs=same_nhs.nhs, address=moved_address(same_nhs)))
    _put(api, "acute", patient(same_nhs, "a-det", nhs=same_nhs.nhs, family="Other-Name"))
    _put(api, "gp", patient(nickname, "g-prob", nhs=nickname.nhs))
    _put(api, "council", patient(nickname, "c-prob", given=nickname.nickname))
    _put(api, "council", {"resourceType": "Patient", "id": "c-sparse", "name": [{"family": "Smith"}]})

    assert _links(_person_of(api, "a-det")) == {"g-det": "level4", "a-det": "level4"}
    assert _links(_person_of(api, "c-prob")) == {"g-prob": "level4", "c-prob": "level3"}
    assert _links(_person_of(api, "c-sparse")) == {"c-sparse": "level2"}
    queue = api.get(REVIEW_QUEUE).json()
    assert [e["resource"]["description"] for e in queue["entry"]] == ["too sparse to match (review)"]

    person = _person_of(api, "c-prob")
    provenance = api.get(f"/fhir/Provenance?target=Person/{person['id']}").json()["entry"][0]["resource"]
    assert provenance["agent"][0]["type"]["coding"][0]["code"] == "assembler"
    assert {e["what"]["reference"] for e in provenance["entity"]} == {"Patient/g-prob", "Patient/c-prob"}
    fields = [p for p in provenance["extension"][0]["extension"] if p["url"] == "field"]
    assert {f["extension"][0]["valueString"] for f in fields} >= {"given_name", "birth_date", "nhs_number"}

    _put(api, "council", patient(nickname, "c-prob", given=nickname.nickname, family="Changed"))
    assert _links(_person_of(api, "c-prob")) == {"g-prob": "level4", "c-prob": "level3"}  # placed once


def test_review_accept_unmerge_merge_and_nothing_is_lost(cautious_api: TestClient, people: list[Person]) -> None:
    api = cautious_api
    nickname = next(p for p in people[1:] if p.nickname)
    _put(api, "gp", patient(nickname, "g-prob", nhs=nickname.nhs))
    _put(api, "council", patient(nickname, "c-prob", given=nickname.nickname))
    _put(api, "council", condition("cond-council", "c-prob", "44054006", "Diabetes"))
    [entry] = api.get(REVIEW_QUEUE).json()["entry"]
    task_id = entry["resource"]["id"]
    assert _links(_person_of(api, "c-prob")) == {"c-prob": "level2"}

    shown = api.get(f"/identity/api/reviews/{task_id}").json()
    assert {shown["record"]["patient_id"], shown["candidate"]["patient_id"]} == {"c-prob", "g-prob"}
    assert shown["evidence"]["fields"] and shown["evidence"]["match_probability"] >= 0.2

    accepted = api.post(f"/fhir/Task/{task_id}/$accept-link")
    assert accepted.status_code == 200, accepted.text
    person = _person_of(api, "c-prob")
    assert _links(person) == {"g-prob": "level4", "c-prob": "level4"}
    assert api.get(f"/fhir/Task/{task_id}").json()["status"] == "completed"
    assert api.post(f"/fhir/Task/{task_id}/$accept-link").status_code == 400  # decided once

    parameters = {
        "resourceType": "Parameters",
        "parameter": [{"name": "patient", "valueReference": {"reference": "Patient/c-prob"}}],
    }
    unmerged = api.post(f"/fhir/Person/{person['id']}/$unmerge", json=parameters)
    assert unmerged.status_code == 200, unmerged.text
    assert _links(_person_of(api, "g-prob")) == {"g-prob": "level4"}
    alone = _person_of(api, "c-prob")
    assert alone["id"] != person["id"] and _links(alone) == {"c-prob": "level4"}
    kept = api.get("/fhir/Condition/cond-council").json()
    assert kept["subject"]["reference"] == "Patient/c-prob"  # what was written against the record stays with it

    merge = {
        "resourceType": "Parameters",
        "parameter": [{"name": "other", "valueReference": {"reference": f"Person/{alone['id']}"}}],
    }
    assert api.post(f"/fhir/Person/{person['id']}/$merge", json=merge).status_code == 200
    assert set(_links(_person_of(api, "c-prob"))) == {"g-prob", "c-prob"}
    retired = api.get(f"/fhir/Person/{alone['id']}").json()
    assert retired["active"] is False and retired["link"] == [
        {"target": {"reference": f"Person/{person['id']}"}, "assurance": "level4"}
    ]

    history = api.get(f"/fhir/Person/{person['id']}/_history").json()
    versions = [_links(e["resource"]) for e in reversed(history["entry"]) if "resource" in e]
    assert [sorted(v) for v in versions] == [["g-prob"], ["c-prob", "g-prob"], ["g-prob"], ["c-prob", "g-prob"]]
    reviewers = api.get(
        "/fhir/Provenance?agent-type=http://terminology.hl7.org/CodeSystem/provenance-participant-type|verifier"
    ).json()
    activities = sorted(e["resource"]["activity"]["coding"][0]["code"] for e in reviewers["entry"])
    assert activities == ["accept-link", "merge", "unmerge"]
    assert {e["resource"]["agent"][0]["who"]["display"].split("/")[-1] for e in reviewers["entry"]} == {SYSTEM_CLIENT}


def test_reject_keeps_the_record_as_a_person_of_its_own(cautious_api: TestClient, people: list[Person]) -> None:
    api = cautious_api
    nickname = next(p for p in people[1:] if p.nickname)
    _put(api, "gp", patient(nickname, "g-prob", nhs=nickname.nhs))
    _put(api, "council", patient(nickname, "c-prob", given=nickname.nickname))
    [entry] = api.get(REVIEW_QUEUE).json()["entry"]
    rejected = api.post(f"/fhir/Task/{entry['resource']['id']}/$reject-link")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert _links(_person_of(api, "c-prob")) == {"c-prob": "level4"}
    assert api.get(REVIEW_QUEUE).json().get("entry", []) == []


def test_everything_gathers_every_source_of_the_person(api: TestClient, people: list[Person]) -> None:
    same_nhs = people[0]
    _put(api, "gp", patient(same_nhs, "g-det", nhs=same_nhs.nhs))
    _put(api, "acute", patient(same_nhs, "a-det", nhs=same_nhs.nhs))
    _put(api, "acute", condition("cond-acute", "a-det", "44054006", "Diabetes"))
    _put(api, "gp", condition("cond-gp", "g-det", "38341003", "Hypertension"))

    def everything(patient_id: str) -> dict[str, str | None]:
        found = api.get(f"/fhir/Patient/{patient_id}/$everything").json()
        return {
            f"{e['resource']['resourceType']}/{e['resource']['id']}": e["resource"].get("meta", {}).get("source")
            for e in found["entry"]
        }

    from_gp = everything("g-det")
    assert from_gp["Condition/cond-acute"] == "https://joinedup.example/source/acute"
    assert from_gp["Condition/cond-gp"] == "https://joinedup.example/source/gp"
    assert {"Patient/g-det", "Patient/a-det"} <= set(from_gp)
    assert set(everything("a-det")) == set(from_gp)

    person = _person_of(api, "a-det")
    parameters = {
        "resourceType": "Parameters",
        "parameter": [{"name": "patient", "valueReference": {"reference": "Patient/a-det"}}],
    }
    assert api.post(f"/fhir/Person/{person['id']}/$unmerge", json=parameters).status_code == 200
    assert "Condition/cond-acute" not in everything("g-det")
