"""Reference search (id, Type/id, absolute URL, :[type], :identifier), one-level chains and _has (nested too)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from joinedup.fhir.nhs_number import NHS_NUMBER_SYSTEM
from joinedup.store.context import SYSTEM
from joinedup.store.fhir_store import FhirStore

from ..fixtures import nhs_number, observation, organization, patient
from .test_search_support import BACKENDS, ids, seeded_store

NHS_LOGICAL = nhs_number(401_023_213)
NHS_A = nhs_number(943_476_591)
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"


def _obs(oid: str, subject: dict[str, Any], code: str = "x", **extra: Any) -> dict[str, Any]:
    resource = observation(oid, "unused", code, 1.0)
    resource["subject"] = subject
    resource.update(extra)
    return resource


def _practitioner(pid: str, family: str) -> dict[str, Any]:
    return {"resourceType": "Practitioner", "id": pid, "name": [{"family": family, "given": ["Sam"]}]}


def _report(rid: str, status: str, results: list[str]) -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "id": rid,
        "status": status,
        "code": {"text": "panel"},
        "result": [{"reference": f"Observation/{r}"} for r in results],
    }


def _resources() -> list[dict[str, Any]]:
    gp = organization("org-gp", "Chapel Medical Practice")
    gp["identifier"] = [{"system": ODS, "value": "P84001"}]
    return [
        gp,
        _practitioner("pr-jones", "Jones"),
        _practitioner("pr-khan", "Khan"),
        patient(
            "pat-a",
            family="Able",
            nhs=NHS_A,
            generalPractitioner=[{"reference": "Practitioner/pr-jones"}],
            managingOrganization={"reference": "Organization/org-gp"},
        ),
        patient("pat-b", family="Baker", generalPractitioner=[{"reference": "Organization/org-gp"}]),
        patient("pat-c", family="Cole", generalPractitioner=[{"reference": "Practitioner/pr-khan"}]),
        {"resourceType": "Group", "id": "g1", "type": "person", "actual": True},
        {"resourceType": "Encounter", "id": "enc-1", "status": "finished", "class": {"code": "AMB"}},
        _obs("obs-a1", {"reference": "Patient/pat-a"}, "x", encounter={"reference": "Encounter/enc-1"}),
        _obs("obs-a2", {"reference": "Patient/pat-a"}, "y"),
        _obs("obs-b1", {"reference": "Patient/pat-b"}, "x"),
        _obs("obs-g", {"reference": "Group/g1"}),
        _obs("obs-ext", {"reference": "http://other.example/fhir/Patient/ext-9"}),
        _obs("obs-ident", {"identifier": {"system": NHS_NUMBER_SYSTEM, "value": NHS_LOGICAL}}),
        _report("dr-final", "final", ["obs-b1"]),
        _report("dr-prelim", "preliminary", ["obs-a2"]),
    ]


@pytest.fixture(scope="module", params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirStore]:
    with seeded_store(request, tmp_path_factory, _resources()) as seeded:
        yield seeded


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("subject=Patient/pat-a", {"obs-a1", "obs-a2"}),
        ("subject=pat-a", {"obs-a1", "obs-a2"}),  # a bare id, any of the allowed types
        ("patient=pat-a", {"obs-a1", "obs-a2"}),
        ("subject:Patient=pat-a", {"obs-a1", "obs-a2"}),  # the :[type] modifier
        ("subject:Group=g1", {"obs-g"}),
        ("subject:Patient=g1", set()),
        ("subject=Group/g1", {"obs-g"}),
        ("subject=Patient/g1", set()),
        ("subject=Patient/pat-a,Patient/pat-b", {"obs-a1", "obs-a2", "obs-b1"}),
        ("subject=http://other.example/fhir/Patient/ext-9", {"obs-ext"}),  # absolute URL
        ("subject=http://other.example/fhir/Patient/ext-1", set()),
        (f"subject:identifier={NHS_NUMBER_SYSTEM}|{NHS_LOGICAL}", {"obs-ident"}),
        (f"subject:identifier={NHS_LOGICAL}", {"obs-ident"}),
        (f"subject:identifier={ODS}|{NHS_LOGICAL}", set()),
        ("encounter=enc-1", {"obs-a1"}),
        ("encounter=Encounter/enc-1", {"obs-a1"}),
        ("encounter:missing=true", {"obs-a2", "obs-b1", "obs-g", "obs-ext", "obs-ident"}),
        ("encounter:missing=false", {"obs-a1"}),
        ("subject=Patient/pat-a&code=y", {"obs-a2"}),
    ],
)
def test_reference(store: FhirStore, query: str, expected: set[str]) -> None:
    assert ids(store, "Observation", query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("general-practitioner=Practitioner/pr-jones", {"pat-a"}),
        ("general-practitioner=Organization/org-gp", {"pat-b"}),
        ("general-practitioner:Organization=org-gp", {"pat-b"}),
        ("general-practitioner=org-gp,pr-khan", {"pat-b", "pat-c"}),
        ("organization=org-gp", {"pat-a"}),
        ("general-practitioner:missing=true", set()),
    ],
)
def test_patient_references(store: FhirStore, query: str, expected: set[str]) -> None:
    assert ids(store, "Patient", query) == expected


@pytest.mark.parametrize(
    ("resource_type", "query", "expected"),
    [
        ("Observation", "subject:Patient.family=able", {"obs-a1", "obs-a2"}),
        ("Observation", "subject:Patient.name=baker,able", {"obs-a1", "obs-a2", "obs-b1"}),
        ("Observation", "subject:Patient.family:exact=able", set()),
        ("Observation", f"subject:Patient.identifier={NHS_NUMBER_SYSTEM}|{NHS_A}", {"obs-a1", "obs-a2"}),
        ("Observation", "patient.family=baker", {"obs-b1"}),  # one target type: no need to name it
        ("Observation", "subject:Patient.general-practitioner=Organization/org-gp", {"obs-b1"}),
        ("Observation", "subject:Patient.family=able&code=x", {"obs-a1"}),
        ("Observation", "subject:Group.type=person", {"obs-g"}),
        ("Patient", "general-practitioner:Practitioner.family=jones", {"pat-a"}),
        ("Patient", "general-practitioner:Practitioner.family=jones,khan", {"pat-a", "pat-c"}),
        ("Patient", "general-practitioner:Organization.name=chapel", {"pat-b"}),
        ("Patient", f"general-practitioner:Organization.identifier={ODS}|P84001", {"pat-b"}),
        ("Patient", "organization.name=chapel", {"pat-a"}),
        ("Patient", "general-practitioner:Practitioner.family=chapel", set()),
        ("DiagnosticReport", "result.code=y", {"dr-prelim"}),
        ("DiagnosticReport", "result.subject:Patient.family=baker", {"dr-final"}),  # deeper chains work too
    ],
)
def test_chains(store: FhirStore, resource_type: str, query: str, expected: set[str]) -> None:
    assert ids(store, resource_type, query) == expected


@pytest.mark.parametrize(
    ("resource_type", "query", "expected"),
    [
        ("Patient", "_has:Observation:patient:code=x", {"pat-a", "pat-b"}),
        ("Patient", "_has:Observation:subject:code=y", {"pat-a"}),
        ("Patient", "_has:Observation:patient:code=y,nothing", {"pat-a"}),
        ("Patient", "_has:Observation:patient:code=x&_has:Observation:patient:code=y", {"pat-a"}),
        ("Patient", "_has:Observation:patient:code=x&family=baker", {"pat-b"}),
        ("Patient", "_has:Observation:patient:code=zzz", set()),
        ("Patient", "_has:Observation:patient:_has:DiagnosticReport:result:status=final", {"pat-b"}),
        ("Patient", "_has:Observation:patient:_has:DiagnosticReport:result:status=preliminary", {"pat-a"}),
        ("Group", "_has:Observation:subject:code=x", {"g1"}),
        ("Practitioner", "_has:Patient:general-practitioner:family=able", {"pr-jones"}),
        ("Organization", "_has:Patient:general-practitioner:_has:Observation:patient:code=x", {"org-gp"}),
        ("Encounter", "_has:Observation:encounter:subject:Patient.family=able", {"enc-1"}),  # _has with a chain
    ],
)
def test_has(store: FhirStore, resource_type: str, query: str, expected: set[str]) -> None:
    assert ids(store, resource_type, query) == expected


def test_chain_and_has_ignore_deleted_resources(store: FhirStore) -> None:
    store.update(SYSTEM, "Patient", "pat-gone", patient("pat-gone", family="Gone"))
    store.update(SYSTEM, "Observation", "obs-gone", _obs("obs-gone", {"reference": "Patient/pat-gone"}, "z"))
    assert ids(store, "Observation", "subject:Patient.family=gone") == {"obs-gone"}
    assert ids(store, "Patient", "_has:Observation:patient:code=z") == {"pat-gone"}
    store.delete(SYSTEM, "Patient", "pat-gone")
    assert ids(store, "Observation", "subject:Patient.family=gone") == set()
    store.delete(SYSTEM, "Observation", "obs-gone")
    assert ids(store, "Patient", "_has:Observation:patient:code=z") == set()
