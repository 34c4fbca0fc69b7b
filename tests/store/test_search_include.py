"""_include and _revinclude, with :iterate, target types and '*'."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from joinedup.fhir.errors import InvalidRequest
from joinedup.store.fhir_store import FhirStore

from ..fixtures import encounter, organization, patient
from .test_search_support import BACKENDS, run, seeded_store


def _medication(mid: str, code: str) -> dict[str, Any]:
    return {
        "resourceType": "Medication",
        "id": mid,
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": code}]},
    }


def _request(rid: str, patient_id: str, medication: str | None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": "active",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient_id}"},
    }
    if medication:
        resource["medicationReference"] = {"reference": f"Medication/{medication}"}
    else:
        resource["medicationCodeableConcept"] = {"text": "paracetamol"}
    return resource


def _part_of(org: dict[str, Any], parent: str) -> dict[str, Any]:
    return {**org, "partOf": {"reference": f"Organization/{parent}"}}


def _resources() -> list[dict[str, Any]]:
    return [
        patient("pat-1"),
        patient("pat-2"),
        _medication("med-1", "1"),
        _medication("med-2", "2"),
        _medication("med-unused", "3"),
        _request("mr-1", "pat-1", "med-1"),
        _request("mr-2", "pat-2", "med-2"),
        _request("mr-3", "pat-1", None),
        organization("org-trust", "Trust"),
        _part_of(organization("org-div", "Division"), "org-trust"),
        _part_of(organization("org-ward", "Ward"), "org-div"),
        encounter("enc-1", "pat-1", "2024-01-01", "2024-01-02", org="org-ward"),
        encounter("enc-2", "pat-2", "2024-01-01", "2024-01-02", org="org-trust"),
    ]


@pytest.fixture(scope="module", params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirStore]:
    with seeded_store(request, tmp_path_factory, _resources()) as seeded:
        yield seeded


def _found(store: FhirStore, resource_type: str, query: str) -> tuple[list[str], list[str]]:
    page = run(store, resource_type, query)
    matches = sorted(f"{r['resourceType']}/{r['id']}" for r in page.matches)
    included = [f"{r['resourceType']}/{r['id']}" for r in page.included]
    assert len(included) == len(set(included)), "each included resource appears once"
    return matches, sorted(included)


@pytest.mark.parametrize(
    ("resource_type", "query", "matches", "included"),
    [
        (
            "MedicationRequest",
            "_include=MedicationRequest:medication",
            ["MedicationRequest/mr-1", "MedicationRequest/mr-2", "MedicationRequest/mr-3"],
            ["Medication/med-1", "Medication/med-2"],
        ),
        (
            "MedicationRequest",
            "_id=mr-1&_include=MedicationRequest:medication",
            ["MedicationRequest/mr-1"],
            ["Medication/med-1"],
        ),
        (
            "MedicationRequest",
            "_id=mr-1&_include=MedicationRequest:medication&_include=MedicationRequest:subject",
            ["MedicationRequest/mr-1"],
            ["Medication/med-1", "Patient/pat-1"],
        ),
        (
            "MedicationRequest",
            "_id=mr-2&_include=MedicationRequest:subject:Patient",
            ["MedicationRequest/mr-2"],
            ["Patient/pat-2"],
        ),
        ("MedicationRequest", "_id=mr-2&_include=MedicationRequest:subject:Group", ["MedicationRequest/mr-2"], []),
        (
            "MedicationRequest",
            "_id=mr-1&_include=MedicationRequest:*",
            ["MedicationRequest/mr-1"],
            ["Medication/med-1", "Patient/pat-1"],
        ),
        ("MedicationRequest", "_id=mr-3&_include=MedicationRequest:medication", ["MedicationRequest/mr-3"], []),
        ("Encounter", "_id=enc-1&_include=Encounter:service-provider", ["Encounter/enc-1"], ["Organization/org-ward"]),
        (
            "Encounter",
            "_id=enc-1&_include=Encounter:service-provider&_include:iterate=Organization:partof",
            ["Encounter/enc-1"],
            ["Organization/org-div", "Organization/org-trust", "Organization/org-ward"],
        ),
        (
            "Encounter",
            "_id=enc-1,enc-2&_include=Encounter:service-provider&_include:iterate=Organization:partof",
            ["Encounter/enc-1", "Encounter/enc-2"],
            ["Organization/org-div", "Organization/org-trust", "Organization/org-ward"],
        ),
        (
            "Encounter",
            "_id=enc-1&_include=Encounter:*",
            ["Encounter/enc-1"],
            ["Organization/org-ward", "Patient/pat-1"],
        ),
        (
            "Organization",
            "_include=Organization:partof",
            ["Organization/org-div", "Organization/org-trust", "Organization/org-ward"],
            [],  # targets that are already matches are not repeated as includes
        ),
        (
            "Patient",
            "_id=pat-1&_revinclude=MedicationRequest:subject",
            ["Patient/pat-1"],
            ["MedicationRequest/mr-1", "MedicationRequest/mr-3"],
        ),
        (
            "Patient",
            "_id=pat-1&_revinclude=MedicationRequest:subject&_revinclude=Encounter:subject",
            ["Patient/pat-1"],
            ["Encounter/enc-1", "MedicationRequest/mr-1", "MedicationRequest/mr-3"],
        ),
        (
            "Medication",
            "_id=med-1&_revinclude=MedicationRequest:medication&_include:iterate=MedicationRequest:subject",
            ["Medication/med-1"],
            ["MedicationRequest/mr-1", "Patient/pat-1"],
        ),
        (
            "Organization",
            "_id=org-trust&_revinclude:iterate=Organization:partof",
            ["Organization/org-trust"],
            ["Organization/org-div", "Organization/org-ward"],
        ),
        (
            "Organization",
            "_id=org-trust&_revinclude=Organization:partof",
            ["Organization/org-trust"],
            ["Organization/org-div"],
        ),
        (
            "Organization",
            "_id=org-trust&_revinclude:iterate=Organization:partof&_revinclude:iterate=Encounter:service-provider",
            ["Organization/org-trust"],
            ["Encounter/enc-1", "Encounter/enc-2", "Organization/org-div", "Organization/org-ward"],
        ),
        ("Medication", "_id=med-unused&_revinclude=MedicationRequest:medication", ["Medication/med-unused"], []),
    ],
)
def test_includes(store: FhirStore, resource_type: str, query: str, matches: list[str], included: list[str]) -> None:
    assert _found(store, resource_type, query) == (matches, included)


def test_include_from_another_type_needs_iterate(store: FhirStore) -> None:
    """Without :iterate an _include applies to the matches only, so another source type is a mistake (400)."""
    with pytest.raises(InvalidRequest) as raised:
        run(store, "Encounter", "_id=enc-1&_include=Encounter:service-provider&_include=Organization:partof")
    assert raised.value.location == "_include"


def test_includes_follow_the_page_not_the_whole_result(store: FhirStore) -> None:
    page = run(store, "MedicationRequest", "_sort=_id&_count=1&_include=MedicationRequest:medication")
    assert [r["id"] for r in page.matches] == ["mr-1"]
    assert [r["id"] for r in page.included] == ["med-1"]
    assert page.has_next
