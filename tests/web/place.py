"""A small generated place for the web pages' tests and benchmark: partner organisations, their staff, and people
whose records come from several organisations (meta.source and the source-organisation tag on every resource).

Deterministic: the same arguments give the same resources. Loaded through the store's bulk path (validated and
indexed like `joinedup load`), never through the pages.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import orjson

from joinedup.fhir.nhs_number import NHS_NUMBER_SYSTEM, complete
from joinedup.fhir.source import SOURCE_TAG_SYSTEM, SOURCE_URI_PREFIX
from joinedup.store.bulk_load import prepare_line
from joinedup.store.bulk_writer import Prepared, write_batch
from joinedup.store.fhir_store import FhirStore

Resource = dict[str, Any]
SNOMED = "http://snomed.info/sct"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"


@dataclass(frozen=True)
class Org:
    source: str
    code: str
    name: str
    staff_role: tuple[str, str] | None

    @property
    def id(self) -> str:
        return f"org-{self.code.lower()}"

    @property
    def ref(self) -> Resource:
        return {"reference": f"Organization/{self.id}", "display": self.name}


PLACE = Org("place", "ZQ01", "Saltmoor Care Partnership", None)
PRACTICE = Org("gp", "P84001", "Riverside Surgery", ("62247001", "General practitioner"))
OTHER_PRACTICE = Org("gp2", "P84002", "Hillcrest Medical Centre", ("62247001", "General practitioner"))
ACUTE = Org("acute", "ZRM", "Saltmoor Royal Hospital NHS Foundation Trust", ("309343006", "Physician"))
COMMUNITY = Org("community", "ZRN", "Saltmoor Community Health Services", ("224535009", "Registered nurse"))
MENTAL_HEALTH = Org("mentalhealth", "ZRT", "Irwell Valley Mental Health NHS Trust", ("80546007", "Psychiatrist"))
COUNCIL = Org("socialcare", "Z510", "Saltmoor City Council Adult Social Care", ("106328005", "Social worker"))
VOLUNTARY = Org("voluntary", "ZVS01", "Saltmoor Community and Voluntary Services", ("159033005", "Link worker"))
CARE_HOME = Org("carehome", "VM101", "Larch House Care Home", None)
ORGS = (PLACE, PRACTICE, OTHER_PRACTICE, ACUTE, COMMUNITY, MENTAL_HEALTH, COUNCIL, VOLUNTARY, CARE_HOME)
CLINICAL_ORGS = (PRACTICE, ACUTE, COMMUNITY, MENTAL_HEALTH, COUNCIL, VOLUNTARY)

FAMILIES = ("Ashworth", "Okafor", "Brennan", "Kowalski", "Hussain", "Pritchard", "Lindqvist", "Mensah", "Doherty")
GIVENS = ("Margaret", "Tariq", "Eileen", "Piotr", "Yasmin", "Gareth", "Ingrid", "Kwame", "Siobhan", "Dennis")
CONDITIONS = (
    ("38341003", "Hypertension"),
    ("44054006", "Type 2 diabetes mellitus"),
    ("13645005", "COPD"),
    ("35489007", "Depressive disorder"),
    ("49436004", "Atrial fibrillation"),
)
MEDICINES = (
    ("318421004", "Atenolol 50mg tablets"),
    ("325072002", "Metformin 500mg tablets"),
    ("320000009", "Amlodipine 5mg tablets"),
    ("321153001", "Sertraline 50mg tablets"),
)
ENCOUNTER_KINDS = {
    "gp": "GP consultation",
    "gp2": "GP consultation",
    "acute": "Emergency department attendance",
    "community": "District nursing visit",
    "mentalhealth": "Community mental health contact",
    "socialcare": "Social care assessment visit",
    "voluntary": "Social prescribing session",
}
START = date(2019, 1, 7)


def meta(org: Org, restricted: bool = False) -> Resource:
    block: Resource = {
        "source": f"{SOURCE_URI_PREFIX}{org.source}",
        "tag": [{"system": SOURCE_TAG_SYSTEM, "code": org.code, "display": org.name}],
    }
    if restricted:
        block["security"] = [{"system": CONFIDENTIALITY, "code": "R", "display": "restricted"}]
    return block


def coded(code: str, display: str, system: str = SNOMED) -> Resource:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def nhs_number(index: int) -> str:
    stem = 943_476_000 + index * 7
    while (number := complete(str(stem))) is None:
        stem += 1
    return number


def staff_id(org: Org, number: int) -> str:
    return f"prac-{org.code.lower()}-{number}"


SPA_SERVICE = "svc-spa"  # the single point of access: the community trust's, staffed by its second nurse


def team_id(org: Org) -> str:
    return f"svc-{org.code.lower()}"


def team_of(org: Org, number: int) -> str:
    """The team (HealthcareService) a member of staff belongs to: the community trust's second nurse works at the
    single point of access, its third manages its community nursing team; everyone else is in their org's team."""
    return SPA_SERVICE if org is COMMUNITY and number == 2 else team_id(org)


def team(org: Org) -> Resource:
    """An organisation's team, as a referral's receiving service (care coordination, decision 0500)."""
    return {
        "resourceType": "HealthcareService",
        "id": team_id(org),
        "meta": meta(PLACE),
        "active": True,
        "providedBy": org.ref,
        "name": f"{org.name} team",
        "type": [{"text": f"{org.name} services"}],
    }


def organisations() -> Iterator[Resource]:
    for org in ORGS:
        resource: Resource = {
            "resourceType": "Organization",
            "id": org.id,
            "meta": meta(PLACE),
            "active": True,
            "name": org.name,
            "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": org.code}],
        }
        if org is not PLACE:
            resource["partOf"] = {"reference": f"Organization/{PLACE.id}"}
        yield resource
        if org.staff_role is not None:
            yield team(org)
            for number in (1, 2, 3) if org is COMMUNITY else (1, 2):
                yield {
                    "resourceType": "Practitioner",
                    "id": staff_id(org, number),
                    "meta": meta(PLACE),
                    "name": [
                        {
                            "family": FAMILIES[(number + len(org.code)) % len(FAMILIES)],
                            "given": [GIVENS[(number * 3 + len(org.name)) % len(GIVENS)]],
                            "prefix": [],
                        }
                    ],
                }
                yield {
                    "resourceType": "PractitionerRole",
                    "id": f"role-{org.code.lower()}-{number}",
                    "meta": meta(PLACE),
                    "active": True,
                    "practitioner": {"reference": f"Practitioner/{staff_id(org, number)}"},
                    "organization": {"reference": f"Organization/{org.id}"},
                    "code": [coded(*org.staff_role)],
                    "healthcareService": [{"reference": f"HealthcareService/{team_of(org, number)}"}],
                }
    yield {
        "resourceType": "HealthcareService",
        "id": SPA_SERVICE,
        "meta": meta(PLACE),
        "active": True,
        "providedBy": COMMUNITY.ref,
        "name": "Single point of access (Centre of Contact)",
        "type": [coded("310023007", "Single point of access service")],
    }
    yield {
        "resourceType": "Location",
        "id": "loc-vm101",
        "meta": meta(PLACE),
        "status": "active",
        "name": CARE_HOME.name,
        "type": [coded("285141008", "Care home")],
        "managingOrganization": {"reference": f"Organization/{CARE_HOME.id}"},
    }


@dataclass(frozen=True)
class Person:
    index: int
    given: str
    family: str
    birth: date
    nhs_number: str
    practice: Org

    @property
    def patient_id(self) -> str:
        return f"pat-{self.index}"

    @property
    def ref(self) -> Resource:
        return {"reference": f"Patient/{self.patient_id}"}


def person(index: int) -> Person:
    practice = PRACTICE if index % 4 else OTHER_PRACTICE
    return Person(
        index,
        GIVENS[index % len(GIVENS)],
        FAMILIES[index % len(FAMILIES)],
        date(1930 + (index * 7) % 60, 1 + index % 12, 1 + index % 27),
        nhs_number(index),
        practice,
    )


def patient(who: Person) -> Resource:
    return {
        "resourceType": "Patient",
        "id": who.patient_id,
        "meta": meta(who.practice),
        "identifier": [
            {"system": NHS_NUMBER_SYSTEM, "value": who.nhs_number},
            {"system": f"https://joinedup.example/Id/{who.practice.source}/local", "value": f"L{who.index:05d}"},
        ],
        "name": [{"use": "official", "family": who.family, "given": [who.given]}],
        "gender": "female" if who.index % 2 else "male",
        "birthDate": who.birth.isoformat(),
        "address": [
            {
                "use": "home",
                "line": [f"{who.index + 1} Mill Lane"],
                "city": "Saltmoor",
                "postalCode": f"ZS{who.index % 9 + 1} {who.index % 10}AB",
            }
        ],
        "generalPractitioner": [{"reference": f"Organization/{who.practice.id}"}],
        "managingOrganization": {"reference": f"Organization/{who.practice.id}"},
    }


def _entry(rng: random.Random, who: Person, number: int, org: Org, when: date) -> Resource:
    """One timeline resource from an organisation: an encounter, an observation or a procedure."""
    rid = f"{who.patient_id}-{org.source}-{number}"
    day = when.isoformat()
    shape = number % 3
    if shape == 0:
        return {
            "resourceType": "Encounter",
            "id": rid,
            "meta": meta(org),
            "status": "finished",
            "class": {
                "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                "code": "AMB",
                "display": "ambulatory",
            },
            "type": [{"text": ENCOUNTER_KINDS.get(org.source, "Contact")}],
            "subject": who.ref,
            "period": {"start": day, "end": day},
            "serviceProvider": {"reference": f"Organization/{org.id}"},
        }
    if shape == 1:
        value = round(rng.uniform(110, 160))
        return {
            "resourceType": "Observation",
            "id": rid,
            "meta": meta(org),
            "status": "final",
            "code": coded("271649006", "Systolic blood pressure"),
            "subject": who.ref,
            "effectiveDateTime": day,
            "valueQuantity": {"value": value, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"},
        }
    return {
        "resourceType": "Procedure",
        "id": rid,
        "meta": meta(org),
        "status": "completed",
        "code": coded("225358003", "Wound care"),
        "subject": who.ref,
        "performedDateTime": day,
    }


def summary_resources(who: Person) -> Iterator[Resource]:
    """Problems, medicines, an allergy, a flag, the care team, a care plan, an episode, referrals and tasks."""
    pid = who.patient_id
    for number, (code, display) in enumerate(CONDITIONS[:3]):
        yield {
            "resourceType": "Condition",
            "id": f"{pid}-cond-{number}",
            "meta": meta(who.practice),
            "clinicalStatus": coded("active", "Active", "http://terminology.hl7.org/CodeSystem/condition-clinical"),
            "category": [
                coded(
                    "problem-list-item", "Problem List Item", "http://terminology.hl7.org/CodeSystem/condition-category"
                )
            ],
            "code": coded(code, display),
            "subject": who.ref,
            "onsetDateTime": f"{2015 + number}-03-01",
        }
    for number, (code, display) in enumerate(MEDICINES[:3]):
        yield {
            "resourceType": "MedicationRequest",
            "id": f"{pid}-med-{number}",
            "meta": meta(who.practice),
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": coded(code, display, "https://dmd.nhs.uk"),
            "subject": who.ref,
            "authoredOn": f"2024-0{number + 1}-15",
            "dosageInstruction": [{"text": "One tablet daily"}],
        }
    yield {
        "resourceType": "AllergyIntolerance",
        "id": f"{pid}-allergy",
        "meta": meta(who.practice),
        "clinicalStatus": coded(
            "active", "Active", "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
        ),
        "code": coded("91936005", "Penicillin allergy"),
        "patient": who.ref,
        "recordedDate": "2012-05-02",
    }
    yield {
        "resourceType": "Flag",
        "id": f"{pid}-flag",
        "meta": meta(COUNCIL),
        "status": "active",
        "code": {"text": "Lives alone: key safe at front door"},
        "subject": who.ref,
        "period": {"start": "2024-02-01"},
    }
    social_worker = {"reference": f"Practitioner/{staff_id(COUNCIL, 1)}"}
    yield {
        "resourceType": "EpisodeOfCare",
        "id": f"{pid}-episode",
        "meta": meta(COUNCIL),
        "status": "active",
        "patient": who.ref,
        "managingOrganization": {"reference": f"Organization/{COUNCIL.id}"},
        "period": {"start": "2024-01-20"},
        "careManager": social_worker,
        "type": [{"text": "Adult social care: long-term support"}],
    }
    yield {
        "resourceType": "CareTeam",
        "id": f"{pid}-team",
        "meta": meta(COMMUNITY),
        "status": "active",
        "name": "Neighbourhood team",
        "subject": who.ref,
        "participant": [
            {
                "role": [{"text": "GP"}],
                "member": {"reference": f"Practitioner/{staff_id(who.practice, 1)}"},
                "onBehalfOf": {"reference": f"Organization/{who.practice.id}"},
            },
            {
                "role": [{"text": "District nurse"}],
                "member": {"reference": f"Practitioner/{staff_id(COMMUNITY, 1)}"},
                "onBehalfOf": {"reference": f"Organization/{COMMUNITY.id}"},
            },
            {
                "role": [{"text": "Social worker"}],
                "member": social_worker,
                "onBehalfOf": {"reference": f"Organization/{COUNCIL.id}"},
            },
        ],
    }
    yield {
        "resourceType": "CarePlan",
        "id": f"{pid}-plan",
        "meta": meta(COMMUNITY),
        "status": "active",
        "intent": "plan",
        "title": "Staying well at home",
        "subject": who.ref,
        "period": {"start": "2024-03-01"},
        "author": {"reference": f"Organization/{COMMUNITY.id}"},
    }
    yield {
        "resourceType": "ServiceRequest",
        "id": f"{pid}-referral",
        "meta": meta(who.practice),
        "status": "active",
        "intent": "order",
        "code": coded("306206005", "Referral to falls service"),
        "subject": who.ref,
        "authoredOn": "2025-01-10",
        "performer": [{"reference": f"Organization/{COMMUNITY.id}"}],
    }
    yield {
        "resourceType": "Task",
        "id": f"{pid}-task",
        "meta": meta(COUNCIL),
        "status": "requested",
        "intent": "order",
        "description": "Review care package after hospital discharge",
        "for": who.ref,
        "authoredOn": "2025-02-03",
        "owner": {"reference": f"Organization/{COUNCIL.id}"},
    }
    yield {
        "resourceType": "Observation",
        "id": f"{pid}-mh-note",
        "meta": meta(MENTAL_HEALTH, restricted=True),
        "status": "final",
        "code": {"text": "Mental health risk assessment"},
        "subject": who.ref,
        "effectiveDateTime": "2024-11-12",
        "valueString": "Withheld detail",
    }


def person_resources(who: Person, entries: int) -> list[Resource]:
    """The Patient, the summary resources, then `entries` timeline resources spread across the organisations."""
    rng = random.Random(who.index)
    found = [patient(who), *summary_resources(who)]
    for number in range(entries):
        org = CLINICAL_ORGS[number % len(CLINICAL_ORGS)]
        if org is PRACTICE:
            org = who.practice
        when = START + timedelta(days=(number * 2203 + who.index) % 2200)
        found.append(_entry(rng, who, number, org, when))
    return found


def place(people: int = 12, entries: int = 30) -> list[Resource]:
    resources = list(organisations())
    for index in range(people):
        resources.extend(person_resources(person(index), entries))
    return resources


def load(store: FhirStore, resources: list[Resource]) -> int:
    """Validate, index and write the resources in one batch; the number written."""
    prepared: list[Prepared] = []
    for resource in resources:
        made = prepare_line(orjson.dumps(resource), str(resource["meta"]["source"]))
        if isinstance(made, str):
            raise ValueError(f"{resource['resourceType']}/{resource['id']}: {made}")
        prepared.append(made)
    with store.writing() as conn:
        counts = write_batch(conn, prepared)
    return counts.created + counts.updated
