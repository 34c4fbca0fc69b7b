"""The pieces every synthetic resource is made of: ids, provenance (meta.source and the organisation tag),
references into the place feed, codings, and a source's Patient."""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

from joinedup.fhir.nhs_number import NHS_NUMBER_SYSTEM
from joinedup.fhir.source import SOURCE_TAG_SYSTEM, SOURCE_URI_PREFIX

from .identity import Demographics
from .tables import table

SNOMED = "http://snomed.info/sct"
DMD = "https://dmd.nhs.uk"
ETHNIC_EXTENSION = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory"
ETHNIC_SYSTEM = "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategory"
EXTENSION_BASE = "https://joinedup.example/fhir/StructureDefinition/"
ENCOUNTER_CLASS = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CLINICAL_STATUS = "http://terminology.hl7.org/CodeSystem/condition-clinical"
FEEDS = ("place", "gp", "acute", "community", "mentalhealth", "socialcare", "voluntary")

Resource = dict[str, Any]


def local_system(source: str) -> str:
    """Each partner's own record-number system."""
    return f"https://joinedup.example/Id/{source}/local"


@cache
def meta(source: str, org_code: str, org_name: str) -> Resource:
    """Provenance every resource carries; shared (not copied) between resources, as orjson only reads it."""
    return {
        "source": f"{SOURCE_URI_PREFIX}{source}",
        "tag": [{"system": SOURCE_TAG_SYSTEM, "code": org_code, "display": org_name}],
    }


def organisation(source: str) -> tuple[str, str]:
    org = table("place")["organisations"][source]
    return str(org["code"]), str(org["name"])


def org_ref(code: str) -> Resource:
    return {"reference": f"Organization/place-org-{code.lower()}"}


def ref(resource_type: str, resource_id: str) -> Resource:
    return {"reference": f"{resource_type}/{resource_id}"}


def coding(system: str, code: str, display: str) -> Resource:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def service_code(entry: list[Any]) -> Resource:
    """A services.json entry: [snomed code, display, checked?] or ["local", code, display]."""
    if entry[0] == "local":
        return coding(table("services")["local_system"], entry[1], entry[2])
    return coding(SNOMED, entry[0], entry[1])


def encounter_class(code: str) -> Resource:
    displays = {
        "AMB": "ambulatory",
        "EMER": "emergency",
        "IMP": "inpatient encounter",
        "HH": "home health",
        "VR": "virtual",
    }
    return {"system": ENCOUNTER_CLASS, "code": code, "display": displays[code]}


def day(ordinal: int) -> str:
    return _iso(ordinal)


@cache
def _iso(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


def patient(
    patient_id: str,
    source: str,
    meta_block: Resource,
    person: Demographics,
    local_number: str,
    gp_code: str | None,
    death: int,
    ethnic: tuple[str, str] | None,
) -> Resource:
    identifiers = []
    if person.nhs_number:
        identifiers.append({"system": NHS_NUMBER_SYSTEM, "value": person.nhs_number})
    identifiers.append({"system": local_system(source), "value": local_number})
    resource: Resource = {
        "resourceType": "Patient",
        "id": patient_id,
        "meta": meta_block,
        "identifier": identifiers,
        "name": [{"use": "official", "family": person.family, "given": [person.given]}],
        "gender": "female" if person.female else "male",
        "birthDate": person.birth.isoformat(),
        "address": [
            {
                "use": "home",
                "line": [person.address.line],
                "city": table("place")["borough"],
                "postalCode": person.address.postcode,
                "country": "GB",
            }
        ],
    }
    if ethnic is not None:
        resource["extension"] = [
            {"url": ETHNIC_EXTENSION, "valueCodeableConcept": coding(ETHNIC_SYSTEM, ethnic[0], ethnic[1])}
        ]
    if death:
        resource["deceasedDateTime"] = day(death)
    if gp_code is not None:
        resource["generalPractitioner"] = [org_ref(gp_code)]
    resource["managingOrganization"] = org_ref(meta_block["tag"][0]["code"])
    return resource


def encounter(
    encounter_id: str,
    meta_block: Resource,
    patient_ref: Resource,
    klass: str,
    kind: Resource,
    start: int,
    end: int,
    provider: Resource,
) -> Resource:
    return {
        "resourceType": "Encounter",
        "id": encounter_id,
        "meta": meta_block,
        "status": "finished",
        "class": encounter_class(klass),
        "type": [kind],
        "subject": patient_ref,
        "period": {"start": day(start), "end": day(end)},
        "serviceProvider": provider,
    }
