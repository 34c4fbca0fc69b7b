"""The `place` feed: shared reference data every partner's records point into — the organisations (partners,
GP practices, care homes), their sites, their staff and roles, and the services they run."""

from __future__ import annotations

import random
from collections.abc import Iterator

from .care_directory import (
    GPS_PER_PRACTICE,
    PARTNERS,
    STAFF,
    Directory,
    manager_code,
    practitioner_id,
    role_id,
    service_id,
    service_resource,
)
from .fhir_build import SNOMED, Resource, coding, meta, org_ref, organisation, ref
from .geography import Borough
from .tables import table

__all__ = ["GPS_PER_PRACTICE", "STAFF", "location_id", "place_resources", "practitioner_id", "service_id"]

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


def location_id(org_code: str) -> str:
    return f"place-loc-{org_code.lower()}"


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
    rng: random.Random, org_code: str, count: int, place_meta: Resource, role: tuple[str, str], directory: Directory
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
        rid = role_id(org_code, number)
        resource: Resource = {
            "resourceType": "PractitionerRole",
            "id": rid,
            "meta": place_meta,
            "active": True,
            "practitioner": ref("Practitioner", pid),
            "organization": org_ref(org_code),
            "code": [coding(SNOMED, role[0], role[1])],
        }
        team = directory.team_of_role.get(rid)
        if team is not None:  # a member of one team (care coordination, decision 0506)
            resource["healthcareService"] = [ref("HealthcareService", team.id)]
            if team.manager == rid:
                resource["code"].append(manager_code())
        yield resource


def place_resources(seed: int, borough: Borough, directory: Directory) -> Iterator[Resource]:
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
        yield from _staff(rng, code, directory.staff[source], place_meta, roles[source], directory)
        for team in directory.of_source(source):
            yield service_resource(team, place_meta)
    for practice in borough.practices:
        yield _organization(
            practice.code, practice.name, "prov", place_meta, place_code, practice.street, practice.postcode
        )
        yield from _staff(
            rng, practice.code, GPS_PER_PRACTICE, place_meta, ("62247001", "General practitioner"), directory
        )
        yield service_resource(directory.practice_team(practice.code), place_meta)
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
