"""Small FHIR resources for tests: real R4 content, UK Core identifiers."""

from __future__ import annotations

import zlib
from typing import Any

from joinedup.fhir.nhs_number import NHS_NUMBER_SYSTEM, complete

SNOMED = "http://snomed.info/sct"


def nhs_number(stem: int) -> str:
    """A valid NHS number from a nine-digit stem (skipping stems with no valid check digit)."""
    while True:
        number = complete(f"{stem:09d}")
        if number is not None:
            return number
        stem += 1


def patient(
    pid: str,
    family: str = "Smith",
    given: str = "Ann",
    birth: str = "1950-04-02",
    nhs: str | None = None,
    gender: str = "female",
    **extra: Any,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": pid,
        "identifier": [
            {"system": NHS_NUMBER_SYSTEM, "value": nhs or nhs_number(900_000_000 + zlib.crc32(pid.encode()) % 99_999)}
        ],
        "name": [{"family": family, "given": [given]}],
        "gender": gender,
        "birthDate": birth,
        "address": [{"line": ["1 Chapel Street"], "city": "Salford", "postalCode": "M3 5AA"}],
    }
    resource.update(extra)
    return resource


def condition(
    cid: str, patient_id: str, code: str, display: str = "", onset: str = "2020-01-01", status: str = "active"
) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": cid,
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": status}]
        },
        "code": {"coding": [{"system": SNOMED, "code": code, "display": display or code}], "text": display or code},
        "subject": {"reference": f"Patient/{patient_id}"},
        "onsetDateTime": onset,
    }


def observation(
    oid: str, patient_id: str, code: str, value: float, unit: str = "mmol/L", effective: str = "2021-06-01T10:00:00Z"
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": SNOMED, "code": code}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": effective,
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
    }


def encounter(eid: str, patient_id: str, start: str, end: str, org: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": eid,
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "subject": {"reference": f"Patient/{patient_id}"},
        "period": {"start": start, "end": end},
    }
    if org:
        resource["serviceProvider"] = {"reference": f"Organization/{org}"}
    return resource


def task(tid: str, patient_id: str, owner: str, status: str = "requested") -> dict[str, Any]:
    return {
        "resourceType": "Task",
        "id": tid,
        "status": status,
        "intent": "order",
        "for": {"reference": f"Patient/{patient_id}"},
        "owner": {"reference": f"Organization/{owner}"},
        "authoredOn": "2024-01-01T09:00:00Z",
    }


def organization(oid: str, name: str) -> dict[str, Any]:
    return {"resourceType": "Organization", "id": oid, "name": name, "active": True}
