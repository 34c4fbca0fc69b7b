"""Agendas and actions through the service, on both databases: an agenda built from the case-finding list, open
referrals and members' additions; actions recorded, closed, and carried to the next meeting; and refusals that
change nothing (another role, a non-member, a stale version, a decision the state does not allow)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from joinedup.care.huddles import service
from joinedup.care.huddles.model import listed_patients, why_listed
from joinedup.fhir.errors import Conflict, Forbidden, InvalidRequest, NotFound

from . import neighbourhood as hood
from .conftest import Huddles

TOMORROW = date.today() + timedelta(days=1)


def _coordinator(h: Huddles) -> Any:
    return hood.caller(h.gate, hood.COORDINATOR)


def _agenda(h: Huddles, title: str = "December huddle", referrals: bool = True) -> str:
    new = service.NewAgenda(title, date.today(), from_referrals=referrals)
    return service.start_agenda(_coordinator(h), hood.RIVERSIDE, new)


def _referral(h: Huddles, patient_id: str) -> None:
    h.gate.for_system("huddle-tests").create(
        {
            "resourceType": "ServiceRequest",
            "status": "active",
            "intent": "order",
            "authoredOn": "2026-01-05",
            "code": {"text": "Falls assessment"},
            "subject": {"reference": f"Patient/{patient_id}"},
            "performer": [{"reference": "HealthcareService/svc-zrn"}],
        }
    )


def test_the_coordinator_builds_an_agenda_from_the_list_and_referrals(huddles: Huddles) -> None:
    _referral(huddles, "pat-1")  # one of the practice's registered people, not on the case-finding list
    agenda_id = _agenda(huddles)
    found = _coordinator(huddles).read("List", agenda_id).content or {}
    assert found["mode"] == "working" and found["status"] == "current"
    why = why_listed(found)
    assert why[hood.AGNES.patient_id] == ["case-finding"] and why[hood.AGNES_HOSPITAL] == ["case-finding"]
    assert why["pat-1"] == ["referral"]
    assert hood.CORA.patient_id not in why and hood.ELSIE.patient_id not in why


def test_a_member_adds_a_person_and_the_version_guards_the_agenda(huddles: Huddles) -> None:
    agenda_id = _agenda(huddles, referrals=False)
    nurse = hood.caller(huddles.gate, hood.DISTRICT_NURSE)
    version = nurse.read("List", agenda_id).version_id
    with pytest.raises(NotFound):  # a person the nurse cannot see is not found
        service.add_person(nurse, agenda_id, version, [hood.ELSIE.patient_id])
    coordinator = _coordinator(huddles)
    service.add_person(coordinator, agenda_id, version, ["pat-2"])  # registered at the coordinator's practice
    with pytest.raises(Conflict):  # the same form again: the version it names is stale
        service.add_person(coordinator, agenda_id, version, ["pat-3"])
    after = coordinator.read("List", agenda_id).content or {}
    assert why_listed(after)["pat-2"] == ["member"] and "pat-3" not in listed_patients(after)
    assert nurse.read("Patient", "pat-2").content  # the agenda is a relationship for the members too


def test_actions_are_recorded_closed_and_carried_to_the_next_meeting(huddles: Huddles) -> None:
    coordinator = _coordinator(huddles)
    agenda_id = _agenda(huddles)
    to_team = service.record_action(
        coordinator, agenda_id, hood.AGNES.patient_id, "Falls review at home", "HealthcareService/svc-zrn", TOMORROW
    )
    to_person = service.record_action(
        coordinator,
        agenda_id,
        hood.BERNARD.patient_id,
        "Medication review",
        f"PractitionerRole/{hood.SOCIAL_WORKER}",
        TOMORROW,
    )
    task = coordinator.read("Task", to_team).content or {}
    assert task["owner"] == {"reference": "HealthcareService/svc-zrn"}
    assert task["restriction"]["period"]["end"] == TOMORROW.isoformat()
    assert task["groupIdentifier"]["value"] == hood.RIVERSIDE
    assert task["input"][0]["valueReference"] == {"reference": f"List/{agenda_id}"}
    nurse = hood.caller(huddles.gate, hood.DISTRICT_NURSE)  # a member closes one
    version = nurse.read("Task", to_person).version_id
    service.close_action(nurse, to_person, version, "completed", "Reviewed with the pharmacist")
    with pytest.raises(Conflict):  # twice: already closed
        service.close_action(nurse, to_person, version + 1, "completed")
    closed = coordinator.read("Task", to_person).content or {}
    assert closed["status"] == "completed" and closed["note"][0]["text"] == "Reviewed with the pharmacist"
    service.close_meeting(coordinator, agenda_id, coordinator.read("List", agenda_id).version_id)
    assert (coordinator.read("List", agenda_id).content or {})["status"] == "retired"
    following = service.start_agenda(coordinator, hood.RIVERSIDE, service.NewAgenda("Next", TOMORROW, False, False))
    carried = why_listed(coordinator.read("List", following).content or {})
    assert carried == {hood.AGNES.patient_id: ["action"]}  # the open action, not the closed one
    mdg = service.group_for(coordinator, hood.RIVERSIDE)
    assert [a.id for a in service.open_actions(coordinator, mdg)] == [to_team]


def test_refusals_change_nothing(huddles: Huddles) -> None:
    agenda_id = _agenda(huddles, referrals=False)
    coordinator = _coordinator(huddles)
    version = coordinator.read("List", agenda_id).version_id
    nurse = hood.caller(huddles.gate, hood.DISTRICT_NURSE)
    with pytest.raises(Forbidden):  # a member without caseload.manage cannot start or close meetings
        service.start_agenda(nurse, hood.RIVERSIDE, service.NewAgenda("Mine", date.today()))
    with pytest.raises(Forbidden):
        service.close_meeting(nurse, agenda_id, version)
    outsider = hood.caller(huddles.gate, hood.MENTAL_HEALTH)  # the other neighbourhood's MDG
    with pytest.raises((Forbidden, NotFound)):
        service.agenda_for(outsider, agenda_id)
    with pytest.raises(Forbidden):
        service.group_for(outsider, hood.RIVERSIDE)
    spa = hood.caller(huddles.gate, "role-zrn-2", "spa-triage")  # a role without huddle.attend
    with pytest.raises(Forbidden):
        service.my_groups(spa)
    with pytest.raises(InvalidRequest):  # a due date in the past
        service.record_action(
            coordinator,
            agenda_id,
            hood.AGNES.patient_id,
            "Late",
            "HealthcareService/svc-zrn",
            date.today() - timedelta(days=1),
        )
    with pytest.raises(InvalidRequest):  # someone not on the agenda
        service.record_action(coordinator, agenda_id, "pat-4", "Visit", "HealthcareService/svc-zrn", TOMORROW)
    with pytest.raises(InvalidRequest):  # an owner that is not a person or a team
        service.record_action(coordinator, agenda_id, hood.AGNES.patient_id, "Visit", "Organization/org-zrn", TOMORROW)
    assert coordinator.read("List", agenda_id).version_id == version
    mdg = service.group_for(coordinator, hood.RIVERSIDE)
    assert service.open_actions(coordinator, mdg) == []
    service.close_meeting(coordinator, agenda_id, version)
    with pytest.raises(Conflict):  # a closed meeting's agenda no longer changes
        service.add_person(coordinator, agenda_id, version + 1, ["pat-2"])


def test_my_groups_are_the_ones_i_am_a_member_of(huddles: Huddles) -> None:
    assert [g.id for g in service.my_groups(_coordinator(huddles))] == [hood.RIVERSIDE]
    assert [g.id for g in service.my_groups(hood.caller(huddles.gate, hood.OTHER_GP))] == [hood.HILLCREST]
    assert service.my_groups(hood.caller(huddles.gate, "role-zrm-1", "hospital-doctor")) == []
