"""The `place` feed: shared reference data every partner's records point into — the organisations (partners,
GP practices, care homes), their sites, their staff and roles, and the services they run."""

from __future__ import annotations

import random
from collections.abc import Iterator

from .fhir_build import SNOMED, Resource, coding, meta, org_ref, organisation, ref, service_code
from .geography import Borough
from .tables import table

STAFF = {"acute": 20, "community": 10, "mentalhealth": 8, "socialcare": 12, "voluntary": 4}
GPS_PER_PRACTICE = 4
PARTNERS = ("acute", "community", "mentalhealth", "socialcare", "voluntary")
ORG_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"
SERVICES = {
    "community": [("district-nursing", "district_nursing"), ("falls", "falls_service")],
    "mentalhealth": [("cmht", "mh_referral"), ("talking-therapies", "mh_contact")],
    "socialcare": [
        ("reablement", "reablement"),
        ("home-care", "home_care"),
        ("telecare", "telecare"),
        ("carers", "carers_assessment"),
        ("assessment", "social_assessment"),
    ],
    "voluntary": [("social-prescribing", "social_prescribing")],
}
SURNAMES = (
    "Okoro",
    "Hughes",
    "Patel",
    "Barlow",
    "Kenyon",
    "Shah",
    "Walsh",
    "Murray",
    "Leigh",
    "Ahmed",
    "Booth",
    "Nowak",
    "Grant",
    "Lomax",
    "Cohen",
    "Doyle",
)
GIVEN = ("Amira", "Ben", "Claire", "Dev", "Emma", "Farid", "Grace", "Huw", "Isabel", "Jonah", "Kiran", "Laura")


def practitioner_id(org_code: str, number: int) -> str:
    return f"place-prac-{org_code.lower()}-{number}"


def location_id(org_code: str) -> str:
    return f"place-loc-{org_code.lower()}"


def service_id(source: str, key: str) -> str:
    return f"place-hs-{source}-{key}"


def _organization(
    code: str, name: str, kind: str, place_meta: Resource, part_of: str | None, line: str = "", postcode: str = ""
) -> Resource:
    resource: Resource = {
        "resourceType": "Organization",
        "id": f"place-org-{code.lower()}",
        "meta": place_meta,
        "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": code}],
        "active": True,
        "type": [
            coding(
                ORG_TYPE,
                kind,
                {"prov": "Healthcare Provider", "govt": "Government", "cg": "Community Group", "other": "Other"}[kind],
            )
        ],
        "name": name,
    }
    if line:
        resource["address"] = [{"line": [line], "city": table("place")["borough"], "postalCode": postcode}]
    if part_of:
        resource["partOf"] = org_ref(part_of)
    return resource


def _staff(
    rng: random.Random, org_code: str, count: int, place_meta: Resource, role: tuple[str, str]
) -> Iterator[Resource]:
    for number in range(1, count + 1):
        pid = practitioner_id(org_code, number)
        yield {
            "resourceType": "Practitioner",
            "id": pid,
            "meta": place_meta,
            "active": True,
            "name": [{"family": rng.choice(SURNAMES), "given": [rng.choice(GIVEN)]}],
        }
        yield {
            "resourceType": "PractitionerRole",
            "id": f"place-role-{org_code.lower()}-{number}",
            "meta": place_meta,
            "active": True,
            "practitioner": ref("Practitioner", pid),
            "organization": org_ref(org_code),
            "code": [coding(SNOMED, role[0], role[1])],
        }


def place_resources(seed: int, borough: Borough) -> Iterator[Resource]:
    """Every resource of the place feed, in a fixed order."""
    rng = random.Random(f"{seed}:place")
    place_code, place_name = organisation("place")
    place_meta = meta("place", place_code, place_name)
    yield _organization(place_code, place_name, "govt", place_meta, None)
    roles = {
        "acute": ("309343006", "Physician"),
        "community": ("224535009", "Registered nurse"),
        "mentalhealth": ("80546007", "Psychiatrist"),
        "socialcare": ("106328005", "Social worker"),
        "voluntary": ("159033005", "Community health worker"),
    }
    for source in PARTNERS:
        code, name = organisation(source)
        kind = {"socialcare": "govt", "voluntary": "cg"}.get(source, "prov")
        yield _organization(code, name, kind, place_meta, place_code)
        yield {
            "resourceType": "Location",
            "id": location_id(code),
            "meta": place_meta,
            "status": "active",
            "name": f"{name} (main site)",
            "managingOrganization": org_ref(code),
        }
        yield from _staff(rng, code, STAFF[source], place_meta, roles[source])
        for key, service in SERVICES.get(source, []):
            yield {
                "resourceType": "HealthcareService",
                "id": service_id(source, key),
                "meta": place_meta,
                "active": True,
                "providedBy": org_ref(code),
                "type": [service_code(table("services")[service])],
                "name": table("services")[service][-2]
                if table("services")[service][0] == "local"
                else table("services")[service][1],
            }
    for practice in borough.practices:
        yield _organization(
            practice.code, practice.name, "prov", place_meta, place_code, practice.street, practice.postcode
        )
        yield from _staff(rng, practice.code, GPS_PER_PRACTICE, place_meta, ("62247001", "General practitioner"))
    for home in borough.care_homes:
        practice = borough.practices[home.practice]
        resource = _organization(home.code, home.name, "prov", place_meta, None, home.street, home.postcode)
        resource["extension"] = [
            {"url": "https://joinedup.example/fhir/StructureDefinition/care-home-beds", "valueInteger": home.beds},
            {
                "url": "https://joinedup.example/fhir/StructureDefinition/aligned-gp-practice",
                "valueReference": org_ref(practice.code),
            },
        ]
        yield resource
        setting = ("42665001", "Nursing home") if home.nursing else ("285141008", "Care home")
        yield {
            "resourceType": "Location",
            "id": location_id(home.code),
            "meta": place_meta,
            "status": "active",
            "name": home.name,
            "type": [coding(SNOMED, setting[0], setting[1])],
            "address": {"line": [home.street], "city": borough.name, "postalCode": home.postcode},
            "managingOrganization": org_ref(home.code),
        }
