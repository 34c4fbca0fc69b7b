"""Two neighbourhoods of people for the huddle tests, on top of the web tests' place (tests/web/place.py): people the
population refresh will case-find (adults, not on any caseload), their MDGs (built through the system handle), and
the refresh and the publication run as `joinedup population refresh` runs them on the store.

- ZS1 (the MDG "Riverside neighbourhood", members: the MDG coordinator at P84001, the first district nurse and the
  first social worker): Agnes (a GP and a hospital record, one NHS number), Bernard, Cora (who objects to sharing
  after the refresh: the publication must leave her off), Desmond.
- ZS2 (the MDG "Hillcrest neighbourhood", members: the first mental health practitioner and the first GP at P84002):
  Elsie, Frank.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from joinedup.access.consent_codes import OBJECTS_TO_SHARING, objection
from joinedup.access.context import AccessContext
from joinedup.access.gate import AccessGate
from joinedup.access.handle import CallerHandle
from joinedup.care.huddles.model import mdg_group
from joinedup.care.huddles.publication import PURPOSE, Publication, publish_case_finding
from joinedup.fhir.nhs_number import NHS_NUMBER_SYSTEM, complete
from joinedup.population.case_finding import direct_care_candidates
from joinedup.population.loading import POPULATION_PURPOSE, load_store
from joinedup.population.refresh import refresh

from ...web import place

Resource = dict[str, Any]
INDEX_DATE = date(2024, 12, 31)
RIVERSIDE, HILLCREST = "mdg-riverside", "mdg-hillcrest"
COORDINATOR = "role-p84001-2"  # the mdg-coordinator demo user
DISTRICT_NURSE, SOCIAL_WORKER = "role-zrn-1", "role-z510-1"
MENTAL_HEALTH, OTHER_GP = "role-zrt-1", "role-p84002-1"
ROLE_OF = {
    COORDINATOR: "mdg-coordinator",
    DISTRICT_NURSE: "district-nurse",
    SOCIAL_WORKER: "social-worker",
    MENTAL_HEALTH: "mental-health-practitioner",
    OTHER_GP: "gp",
}
ORG_OF = {
    COORDINATOR: "org-p84001",
    DISTRICT_NURSE: "org-zrn",
    SOCIAL_WORKER: "org-z510",
    MENTAL_HEALTH: "org-zrt",
    OTHER_GP: "org-p84002",
}


@dataclass(frozen=True)
class Resident:
    key: str
    given: str
    family: str
    birth: str
    postcode: str
    practice: place.Org
    number: int

    @property
    def patient_id(self) -> str:
        return f"hud-{self.key}"

    @property
    def nhs_number(self) -> str:
        found = complete(str(943_476_500 + self.number * 13))
        return found or complete(str(943_476_501 + self.number * 13)) or ""


AGNES = Resident("agnes", "Agnes", "Whitlock", "1938-04-02", "ZS1 4QQ", place.PRACTICE, 1)
BERNARD = Resident("bernard", "Bernard", "Quayle", "1941-09-12", "ZS1 7RT", place.PRACTICE, 2)
CORA = Resident("cora", "Cora", "Ellingham", "1944-01-30", "ZS1 2WX", place.PRACTICE, 3)
DESMOND = Resident("desmond", "Desmond", "Farrow", "1950-06-18", "ZS1 9LP", place.OTHER_PRACTICE, 4)
ELSIE = Resident("elsie", "Elsie", "Bramwell", "1936-11-05", "ZS2 3HD", place.OTHER_PRACTICE, 5)
FRANK = Resident("frank", "Frank", "Openshaw", "1947-02-21", "ZS2 8JN", place.OTHER_PRACTICE, 6)
ZS1 = (AGNES, BERNARD, CORA, DESMOND)
ZS2 = (ELSIE, FRANK)
AGNES_HOSPITAL = "hud-agnes-acute"  # Agnes's hospital record: same NHS number


def _gp_meta(who: Resident) -> Resource:
    """Each practice's records come from the GP feed (source .../gp, which population health reads as registration),
    tagged with the practice that holds them."""
    return {**place.meta(who.practice), "source": place.meta(place.PRACTICE)["source"]}


def _patient(who: Resident, patient_id: str, org: place.Org) -> Resource:
    return {
        "resourceType": "Patient",
        "id": patient_id,
        "meta": place.meta(org) if org is place.ACUTE else _gp_meta(who),
        "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": who.nhs_number}],
        "name": [{"use": "official", "family": who.family, "given": [who.given]}],
        "gender": "female" if who.number % 2 else "male",
        "birthDate": who.birth,
        "address": [
            {"use": "home", "line": [f"{who.number} Canal Street"], "city": "Saltmoor", "postalCode": who.postcode}
        ],
        "generalPractitioner": [{"reference": f"Organization/{who.practice.id}"}],
        "managingOrganization": {"reference": f"Organization/{org.id if org is not place.ACUTE else who.practice.id}"},
    }


def _admission(who: Resident, patient_id: str, number: int, start: str, end: str) -> Resource:
    return {
        "resourceType": "Encounter",
        "id": f"{who.patient_id}-adm-{number}",
        "meta": place.meta(place.ACUTE),
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP", "display": "inpatient"},
        "type": [{"text": "Emergency admission"}],
        "priority": {"coding": [{"code": "EM"}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "period": {"start": start, "end": end},
        "serviceProvider": {"reference": f"Organization/{place.ACUTE.id}"},
    }


def _problem(who: Resident, number: int, code: str, display: str) -> Resource:
    return {
        "resourceType": "Condition",
        "id": f"{who.patient_id}-problem-{number}",
        "meta": _gp_meta(who),
        "clinicalStatus": place.coded("active", "Active", "http://terminology.hl7.org/CodeSystem/condition-clinical"),
        "code": place.coded(code, display),
        "subject": {"reference": f"Patient/{who.patient_id}"},
        "onsetDateTime": "2018-05-01",
    }


def residents() -> list[Resource]:
    made: list[Resource] = []
    for who in (*ZS1, *ZS2):
        made.append(_patient(who, who.patient_id, who.practice))
        made.append(_problem(who, 1, "84114007", "Heart failure"))
        if who.number % 2:
            made.append(_problem(who, 2, "44054006", "Type 2 diabetes mellitus"))
        made.append(_admission(who, who.patient_id, 1, "2024-03-01", "2024-03-08"))
    made.append(_patient(AGNES, AGNES_HOSPITAL, place.ACUTE))
    made.append(_admission(AGNES, AGNES_HOSPITAL, 2, "2024-10-01", "2024-10-05"))
    recent = date.today() - timedelta(days=30)  # a stay the huddle page shows (the last year's)
    made.append(_admission(AGNES, AGNES_HOSPITAL, 3, recent.isoformat(), (recent + timedelta(days=4)).isoformat()))
    return made


def mdgs() -> list[Resource]:
    return [
        mdg_group(
            RIVERSIDE,
            "Riverside neighbourhood MDG",
            "ZS1",
            ["org-p84001", "org-p84002"],
            [COORDINATOR, DISTRICT_NURSE, SOCIAL_WORKER],
            "Organization/org-p84001",
        ),
        mdg_group(
            HILLCREST,
            "Hillcrest neighbourhood MDG",
            "ZS2",
            ["org-p84002"],
            [MENTAL_HEALTH, OTHER_GP],
            "Organization/org-p84002",
        ),
    ]


def build(gate: AccessGate) -> None:
    """The residents and the MDGs, written by the system (as a feed and the MDGs' set-up would write them)."""
    gate.for_system("huddle-tests").bulk_write([*residents(), *mdgs()])


def object_to_sharing(gate: AccessGate, patient_id: str) -> None:
    gate.for_system("huddle-tests").create(objection(patient_id, OBJECTS_TO_SHARING, f"objection-{patient_id}"))


def refreshed(gate: AccessGate, path: Path) -> Path:
    """The population refresh on the store, as `joinedup population refresh` runs it."""
    con = duckdb.connect(str(path))
    try:
        load_store(con, gate.for_system(POPULATION_PURPOSE))
        refresh(con, INDEX_DATE)
    finally:
        con.close()
    return path


def publish(gate: AccessGate, path: Path, now: datetime | None = None) -> Publication:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return publish_case_finding(gate.for_system(PURPOSE), lambda n: direct_care_candidates(con, n), now=now)
    finally:
        con.close()


def caller(gate: AccessGate, role_id: str, role: str | None = None) -> CallerHandle:
    """A member of staff's handle, as the pages make it for them."""
    return gate.for_caller(
        AccessContext(
            user=f"PractitionerRole/{role_id}",
            role=role or ROLE_OF[role_id],
            organisation=f"Organization/{_org_of(role_id)}",
            purpose="treatment",
        )
    )


def _org_of(role_id: str) -> str:
    """role-<ods code>-<n> works at org-<ods code>."""
    return ORG_OF.get(role_id) or "org-" + role_id.split("-")[1]


def analyst(gate: AccessGate) -> CallerHandle:
    return gate.for_caller(AccessContext(user="Practitioner/analyst-1", role="analyst", purpose="analytics"))


def now() -> datetime:
    return datetime.now(UTC)
