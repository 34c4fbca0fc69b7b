"""What the gate adds for care coordination (decision 0500), on both databases: a team stands for its organisation,
a multidisciplinary group's current lists and a care home's residents are relationships, staff Groups are directory
data, work about nobody identified yet is its writer's, callers' writes carry their organisation, and a care
service's transaction is checked entry by entry."""

from __future__ import annotations

from typing import Any

import pytest

from joinedup.access.context import AccessContext
from joinedup.access.gate import AccessGate
from joinedup.fhir.errors import Forbidden, NotFound
from joinedup.fhir.search_request import parse_search
from joinedup.fhir.source import SOURCE_TAG_SYSTEM
from joinedup.store.context import SYSTEM

from ..web import place
from .conftest import GP, HOSPITAL, MENTAL_HEALTH, NURSE, staff

CARE_HOME = AccessContext(
    user="PractitionerRole/role-vm101-1", role="care-home-staff", organisation=f"Organization/{place.CARE_HOME.id}"
)
SPA = staff(place.COMMUNITY, "spa-triage", 2)
IG = AccessContext(user="PractitionerRole/role-ig", role="ig-manager", organisation=f"Organization/{place.PLACE.id}")


def put(gate: AccessGate, resource: dict[str, Any]) -> None:
    gate._store.update(SYSTEM, resource["resourceType"], resource["id"], resource)


def patients(gate: AccessGate, ctx: AccessContext) -> set[str]:
    page = gate.search(ctx, parse_search("Patient", [("_count", "1000")]))
    return {r["id"] for r in page.matches}


def count(gate: AccessGate, resource_type: str) -> int:
    return gate.search(SYSTEM_CTX, parse_search(resource_type, [("_total", "accurate"), ("_count", "0")])).total or 0


SYSTEM_CTX = AccessContext(user="Device/test", role="system")


def test_an_open_task_owned_by_a_team_relates_its_organisations_staff(gate: AccessGate) -> None:
    assert "pat-1" not in patients(gate, HOSPITAL)
    task = {
        "resourceType": "Task",
        "id": "team-task",
        "status": "requested",
        "intent": "order",
        "for": {"reference": "Patient/pat-1"},
        "owner": {"reference": f"HealthcareService/{place.team_id(place.ACUTE)}"},
    }
    put(gate, task)
    assert "pat-1" in patients(gate, HOSPITAL)
    assert "pat-1" not in patients(gate, MENTAL_HEALTH)  # another organisation's team is not theirs
    put(gate, {**task, "status": "completed"})
    assert "pat-1" not in patients(gate, HOSPITAL)


def _mdg(member: str) -> dict[str, Any]:
    return {
        "resourceType": "Group",
        "id": "mdg-1",
        "type": "practitioner",
        "actual": True,
        "name": "Riverside neighbourhood MDG",
        "member": [{"entity": {"reference": member}}],
    }


def test_the_people_on_a_current_list_of_a_group_are_its_members_people(gate: AccessGate) -> None:
    put(gate, _mdg(MENTAL_HEALTH.user))
    agenda = {
        "resourceType": "List",
        "id": "agenda-1",
        "status": "current",
        "mode": "working",
        "subject": {"reference": "Group/mdg-1"},
        "entry": [{"item": {"reference": "Patient/pat-2"}}],
    }
    put(gate, agenda)
    assert "pat-2" in patients(gate, MENTAL_HEALTH)
    assert "pat-3" not in patients(gate, MENTAL_HEALTH)
    assert "pat-2" not in patients(gate, HOSPITAL)  # not a member
    put(gate, {**agenda, "status": "retired"})
    assert "pat-2" not in patients(gate, MENTAL_HEALTH)


def test_a_staff_group_is_directory_data_and_a_group_of_people_is_not(gate: AccessGate) -> None:
    put(gate, _mdg(MENTAL_HEALTH.user))
    assert gate.read(HOSPITAL, "Group", "mdg-1").id == "mdg-1"
    people = {
        "resourceType": "Group",
        "id": "people-1",
        "type": "practitioner",  # mislabelled: it names a person, so it is personal
        "actual": True,
        "member": [{"entity": {"reference": "Patient/pat-0"}}],
    }
    put(gate, people)
    with pytest.raises(NotFound):
        gate.read(HOSPITAL, "Group", "people-1")


def test_a_care_homes_staff_see_the_people_residing_there(gate: AccessGate) -> None:
    stay = {
        "resourceType": "Encounter",
        "id": "stay-1",
        "status": "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "HH"},
        "subject": {"reference": "Patient/pat-3"},
        "location": [{"location": {"reference": "Location/loc-vm101"}, "status": "active"}],
    }
    put(gate, stay)
    assert "pat-3" in patients(gate, CARE_HOME)
    put(gate, {**stay, "status": "finished"})
    assert "pat-3" not in patients(gate, CARE_HOME)


def _referral_bundle(patient: str, **request_extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:1b8b1b5e-0000-4000-8000-000000000001",
                "resource": {
                    "resourceType": "ServiceRequest",
                    "status": "active",
                    "intent": "order",
                    "subject": {"reference": f"Patient/{patient}"},
                },
                "request": {"method": "POST", "url": "ServiceRequest", **request_extra},
            },
            {
                "resource": {
                    "resourceType": "Task",
                    "status": "requested",
                    "intent": "order",
                    "for": {"reference": f"Patient/{patient}"},
                    "focus": {"reference": "urn:uuid:1b8b1b5e-0000-4000-8000-000000000001"},
                    "owner": {"reference": f"HealthcareService/{place.team_id(place.COMMUNITY)}"},
                },
                "request": {"method": "POST", "url": "Task"},
            },
        ],
    }


def test_write_together_writes_both_with_the_writers_organisation(gate: AccessGate) -> None:
    results = gate.for_caller(GP).write_together(_referral_bundle("pat-1"))
    request_id = results[0].location.split("/")[1]
    task_id = results[1].location.split("/")[1]
    task = gate.read(GP, "Task", task_id).content or {}
    assert task["focus"]["reference"] == f"ServiceRequest/{request_id}"
    tags = {(t["system"], t["code"]) for t in task["meta"]["tag"]}
    assert (SOURCE_TAG_SYSTEM, place.PRACTICE.code) in tags
    assert gate.read(NURSE, "Task", task_id).id == task_id  # the receiving team's organisation


@pytest.mark.parametrize(
    ("caller", "bundle", "why"),
    [
        (GP, _referral_bundle("pat-0"), "no care relationship"),  # another practice's patient
        (GP, _referral_bundle("pat-1", ifNoneExist="identifier=x|y"), "only plain"),
        (IG, _referral_bundle("pat-1"), "may not change"),
        (GP, {**_referral_bundle("pat-1"), "type": "batch"}, "one transaction"),
    ],
)
def test_write_together_refuses_and_writes_nothing(
    gate: AccessGate, caller: AccessContext, bundle: dict[str, Any], why: str
) -> None:
    before = (count(gate, "ServiceRequest"), count(gate, "Task"))
    with pytest.raises(Forbidden, match=why):
        gate.for_caller(caller).write_together(bundle)
    assert (count(gate, "ServiceRequest"), count(gate, "Task")) == before


def test_an_update_in_write_together_needs_the_resource_visible(gate: AccessGate) -> None:
    hidden = {"resourceType": "Task", "id": "hidden-task", "status": "requested", "intent": "order"}
    put(gate, {**hidden, "for": {"reference": "Patient/pat-0"}})
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"resource": hidden, "request": {"method": "PUT", "url": "Task/hidden-task"}}],
    }
    with pytest.raises(NotFound):
        gate.for_caller(GP).write_together(bundle)
    assert (gate.read(SYSTEM_CTX, "Task", "hidden-task").content or {})["for"]["reference"] == "Patient/pat-0"


def test_work_about_nobody_identified_is_its_writers_organisations(gate: AccessGate) -> None:
    contact = {
        "resourceType": "Communication",
        "status": "completed",
        "payload": [{"contentString": "A neighbour rang about someone not yet identified"}],
    }
    made = gate.for_caller(SPA).create(contact)
    contact_id = made.written.id
    assert gate.read(NURSE, "Communication", contact_id).id == contact_id  # the same organisation
    for outsider in (HOSPITAL, GP, MENTAL_HEALTH):
        with pytest.raises(NotFound):
            gate.read(outsider, "Communication", contact_id)
    unstamped = {**contact, "id": "from-a-feed"}
    put(gate, unstamped)  # a feed's record of nobody, with no organisation: nobody's but the system's
    with pytest.raises(NotFound):
        gate.read(NURSE, "Communication", "from-a-feed")
