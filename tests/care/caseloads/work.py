"""Hand-built care coordination work on the web tests' place (tests/web/place.py), for the caseload tests: episodes
of care, tasks of every kind, referrals sent, a care home residence, a second record of one person linked to their
first by the person index, and a fourth worker in the community nursing team. Written through the store's bulk
path, as a feed would load them; `NOW` is the moment the lists are read at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from joinedup.care.vocabulary import vocabulary
from joinedup.identity.resources import Assurance, PersonState, person_resource
from joinedup.store.fhir_store import FhirStore

from ...web import place

Resource = dict[str, Any]
NOW = datetime.now(UTC).replace(second=0, microsecond=0)  # the pages read at the real clock's time
NURSE = "PractitionerRole/role-zrn-1"  # the district-nurse demo user, in team svc-zrn
MANAGER = "PractitionerRole/role-zrn-3"  # the team-manager demo user, in team svc-zrn
FOURTH = "PractitionerRole/role-zrn-4"  # another worker of svc-zrn, made here
SOCIAL_WORKER = "PractitionerRole/role-z510-1"  # in the council's team svc-z510
TEAM = "HealthcareService/svc-zrn"
COMMUNITY = f"Organization/{place.COMMUNITY.id}"
COUNCIL = f"Organization/{place.COUNCIL.id}"
SECOND_RECORD = "pat-1-acute"  # the hospital's record of person 1, linked to pat-1 by the person index


def instant(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def ref(reference: str) -> Resource:
    return {"reference": reference}


def episode(rid: str, patient: str, manager: str | None, org: str = COMMUNITY, status: str = "active") -> Resource:
    resource: Resource = {
        "resourceType": "EpisodeOfCare",
        "id": rid,
        "meta": place.meta(place.COMMUNITY if org == COMMUNITY else place.COUNCIL),
        "status": status,
        "patient": ref(f"Patient/{patient}"),
        "managingOrganization": ref(org),
        "type": [{"text": f"Community nursing ({rid})"}],
        "period": {"start": "2026-10-01"},
    }
    if manager:
        resource["careManager"] = ref(manager)
    return resource


def code_of(kind: str) -> Resource:
    words = vocabulary()
    if kind == "referral":
        return {"coding": [{"system": words.system("task_code"), "code": "fulfill"}], "text": "Referral"}
    return {"coding": [{"system": words.system("work_kind"), "code": kind}], "text": kind}


def task(rid: str, patient: str, owner: str, kind: str, due: timedelta | None, status: str = "requested",
         requester: str | None = None, modified: datetime = NOW) -> Resource:  # fmt: skip
    resource: Resource = {
        "resourceType": "Task",
        "id": rid,
        "meta": place.meta(place.COMMUNITY),
        "status": status,
        "intent": "order",
        "code": code_of(kind),
        "description": f"Work {rid}",
        "for": ref(f"Patient/{patient}"),
        "owner": ref(owner),
        "authoredOn": instant(NOW - timedelta(days=5)),
        "lastModified": instant(modified),
    }
    if due is not None:
        resource["restriction"] = {"period": {"end": instant(NOW + due)}}
    if requester:
        resource["requester"] = ref(requester)
    return resource


def second_record() -> Resource:
    first = place.patient(place.person(1))
    return {**first, "id": SECOND_RECORD, "meta": place.meta(place.ACUTE),
            "identifier": [first["identifier"][0]]}  # fmt: skip


def linking_person() -> Resource:
    state = PersonState("person-1", {"pat-1": Assurance.CONFIRMED, SECOND_RECORD: Assurance.CONFIRMED})
    return person_resource(state)


def fourth_worker() -> list[Resource]:
    return [
        {"resourceType": "Practitioner", "id": "prac-zrn-4", "meta": place.meta(place.PLACE),
         "name": [{"family": "Abbott", "given": ["Nadia"]}]},
        {"resourceType": "PractitionerRole", "id": "role-zrn-4", "meta": place.meta(place.PLACE), "active": True,
         "practitioner": ref("Practitioner/prac-zrn-4"), "organization": ref(COMMUNITY),
         "code": [place.coded("224535009", "Registered nurse")], "healthcareService": [ref(TEAM)]},
    ]  # fmt: skip


def residence(rid: str, patient: str, status: str = "in-progress") -> Resource:
    return {
        "resourceType": "Encounter",
        "id": rid,
        "meta": place.meta(place.CARE_HOME),
        "status": status,
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "HH", "display": "home health"},
        "type": [{"text": "Care home residence"}],
        "subject": ref(f"Patient/{patient}"),
        "location": [{"location": ref("Location/loc-vm101"), "status": "active"}],
        "serviceProvider": ref(f"Organization/{place.CARE_HOME.id}"),
        "period": {"start": "2026-06-01"},
    }


def resources() -> list[Resource]:
    day = timedelta(days=1)
    return [
        second_record(),
        linking_person(),
        *fourth_worker(),
        # the nurse's caseload: person 1 twice (both records), a finished episode that is not listed
        episode("ep-nurse-1", "pat-1", NURSE),
        episode("ep-nurse-1b", SECOND_RECORD, NURSE),
        episode("ep-nurse-old", "pat-4", NURSE, status="finished"),
        episode("ep-manager", "pat-2", MANAGER),
        episode("ep-unallocated", "pat-3", None),
        episode("ep-council", "pat-1", SOCIAL_WORKER, org=COUNCIL),
        episode("ep-hidden", "pat-1", SOCIAL_WORKER, org=COUNCIL),  # nobody at the voluntary sector is related
        # the nurse's tasks: one overdue referral, a triage due tomorrow, a huddle action due in three days
        task("t-overdue", "pat-2", NURSE, "referral", -day, status="accepted"),
        task("t-triage", "pat-4", NURSE, "triage", day),
        task("t-huddle", "pat-3", NURSE, "huddle-action", 3 * day, status="in-progress"),
        task("t-done", "pat-4", NURSE, "huddle-action", -day, status="completed"),
        # the team's unallocated work, and another team's
        task("t-team", "pat-5", TEAM, "referral", 2 * day),
        task("t-team-late", "pat-0", TEAM, "referral", -2 * day),
        task("t-spa", "pat-5", "HealthcareService/svc-spa", "triage", day),
        # referrals the nurse sent: open, closed recently, closed long ago
        task("t-sent", "pat-1", "HealthcareService/svc-z510", "referral", 4 * day, requester=NURSE),
        task("t-sent-recent", "pat-5", "HealthcareService/svc-z510", "referral", None, status="completed",
             requester=NURSE, modified=NOW - 3 * day),
        task("t-sent-old", "pat-0", "HealthcareService/svc-z510", "referral", None, status="completed",
             requester=NURSE, modified=NOW - 30 * day),
        # the care home's residents: person 0 now, person 2 who has left
        residence("enc-res-0", "pat-0"),
        residence("enc-res-2", "pat-2", status="finished"),
    ]  # fmt: skip


def load(store: FhirStore) -> None:
    place.load(store, resources())
