"""The single point of access's service on both databases: intake (identified and not yet), identifying later,
each decision, and the refusals (another role, a decided contact, a stale form), each changing nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from joinedup.access.gate import AccessGate
from joinedup.access.handle import CallerHandle
from joinedup.care.permissions import TRIAGE
from joinedup.care.triage import service
from joinedup.care.triage.model import NewContact
from joinedup.care.vocabulary import vocabulary
from joinedup.fhir.errors import Conflict, Forbidden, InvalidRequest, NotFound
from joinedup.fhir.search_request import parse_search
from joinedup.fhir.source import SOURCE_TAG_SYSTEM

from ...web import place
from .conftest import COMMUNITY_TEAM, PERSON, SPA, SPA_TEAM, STRANGER, staff

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
SPA_USER = "PractitionerRole/role-zrn-2"


def phone_call(
    patient: str | None, urgency: str = "72-hours", what: str = "Falls at home, carer worried"
) -> NewContact:
    return NewContact(SPA, "phone", "carer", urgency, what, patient, None, "Her daughter", SPA_USER)


def count(caller: CallerHandle, resource_type: str, *pairs: tuple[str, str]) -> int:
    return len(caller.search(parse_search(resource_type, [*pairs, ("_count", "100")])).matches)


def test_an_identified_contact_is_a_communication_and_a_triage_task_in_the_queue(spa: CallerHandle) -> None:
    taken = service.take_contact(spa, phone_call(f"Patient/{PERSON.patient_id}"), NOW)
    words = vocabulary()
    contact, task = taken.communication, taken.task
    assert contact["status"] == "completed"
    assert contact["category"][0]["coding"][0]["code"] == "phone"
    assert contact["category"][1]["coding"][0]["code"] == "carer"
    assert contact["medium"][0]["coding"][0]["code"] == "PHONE"
    assert contact["subject"]["reference"] == f"Patient/{PERSON.patient_id}"
    assert contact["sender"] == {"display": "Her daughter"}
    assert contact["recipient"] == [{"reference": SPA}]
    assert contact["payload"] == [{"contentString": "Falls at home, carer worried"}]
    assert task["code"]["coding"][0] == words.get("work_kinds", "triage").coding()
    assert task["focus"]["reference"] == f"Communication/{contact['id']}"
    assert task["for"]["reference"] == f"Patient/{PERSON.patient_id}"
    assert task["owner"]["reference"] == SPA
    assert task["status"] == "requested"
    assert task["priority"] == "urgent"
    assert task["authoredOn"] == "2026-12-07T09:00:00Z"
    assert task["restriction"]["period"]["end"] == "2026-12-10T09:00:00Z"  # 72 hours on
    tags = {t["code"] for r in (contact, task) for t in r["meta"]["tag"] if t["system"] == SOURCE_TAG_SYSTEM}
    assert tags == {"ZRN"}  # written by the community trust, which runs the single point of access
    assert [c.task_id for c in service.queue(spa, [SPA], NOW)] == [taken.task_id]


def test_the_queue_is_ordered_by_urgency_then_waiting_time(spa: CallerHandle) -> None:
    patient = f"Patient/{PERSON.patient_id}"
    routine_old = service.take_contact(spa, phone_call(patient, "routine"), NOW - timedelta(days=40))
    urgent_new = service.take_contact(spa, phone_call(patient, "same-day"), NOW - timedelta(hours=1))
    urgent_old = service.take_contact(spa, phone_call(patient, "same-day"), NOW - timedelta(hours=30))
    soon = service.take_contact(spa, phone_call(None, "72-hours"), NOW - timedelta(hours=2))
    queue = service.queue(spa, [SPA], NOW)
    assert [c.task_id for c in queue] == [urgent_old.task_id, urgent_new.task_id, soon.task_id, routine_old.task_id]
    # 30 hours against a 24-hour clock; 40 days against 28
    assert [c.overdue(NOW) for c in queue] == [True, False, False, True]


def test_an_unidentified_contact_is_its_organisations_own(
    spa: CallerHandle, nurse: CallerHandle, gp: CallerHandle
) -> None:
    taken = service.take_contact(spa, phone_call(None), NOW)
    assert "subject" not in taken.communication and "for" not in taken.task
    assert [c.task_id for c in service.queue(spa, [SPA], NOW)] == [taken.task_id]
    assert service.contact(nurse, taken.task_id).task_id == taken.task_id  # the same organisation
    with pytest.raises(NotFound):
        service.contact(gp, taken.task_id)  # another partner: not there at all
    assert count(gp, "Communication", ("_id", str(taken.communication["id"]))) == 0


def test_identifying_later_sets_the_subject_and_the_task_for(spa: CallerHandle) -> None:
    taken = service.take_contact(spa, phone_call(None), NOW)
    patient = f"Patient/{PERSON.patient_id}"
    identified = service.identify(spa, taken.task_id, taken.version, patient, NOW)
    assert identified.communication["subject"]["reference"] == patient
    assert identified.task["for"]["reference"] == patient
    assert identified.version != taken.version
    with pytest.raises(Conflict):  # the same form again: stale, and already linked
        service.identify(spa, taken.task_id, taken.version, patient, NOW)
    with pytest.raises(Conflict):
        service.identify(spa, taken.task_id, identified.version, "Patient/pat-1", NOW)
    assert service.contact(spa, taken.task_id).patient == patient


def test_advice_closes_at_first_contact(spa: CallerHandle) -> None:
    taken = service.take_contact(spa, phone_call(f"Patient/{PERSON.patient_id}"), NOW)
    decision = service.Decision("advice", note="Signposted to the falls prevention class", decided_by=SPA_USER)
    decided = service.decide(spa, taken.task_id, taken.version, decision, NOW + timedelta(minutes=20))
    assert decided.task["status"] == "completed"
    assert decided.outcome == "advice"
    assert decided.task["executionPeriod"]["end"] == "2026-12-07T09:20:00Z"
    assert decided.task["note"][-1]["text"] == "Signposted to the falls prevention class"
    assert service.queue(spa, [SPA], NOW) == []


def test_declined_needs_a_reason(spa: CallerHandle) -> None:
    taken = service.take_contact(spa, phone_call(f"Patient/{PERSON.patient_id}"), NOW)
    with pytest.raises(InvalidRequest):
        service.decide(spa, taken.task_id, taken.version, service.Decision("declined"), NOW)
    assert service.contact(spa, taken.task_id).version == taken.version  # nothing changed
    decided = service.decide(spa, taken.task_id, taken.version, service.Decision("declined", reason="already-known"))
    assert decided.outcome == "declined"
    assert decided.task["statusReason"]["coding"][0]["code"] == "already-known"


def test_referred_on_makes_the_referral_and_the_receiving_team_sees_it(
    spa: CallerHandle, nurse: CallerHandle, gate: AccessGate
) -> None:
    patient = f"Patient/{PERSON.patient_id}"
    taken = service.take_contact(spa, phone_call(patient, "same-day"), NOW)
    decision = service.Decision("referred-on", "Please visit today", COMMUNITY_TEAM, "District nursing visit", "",
                                SPA_USER)  # fmt: skip
    decided = service.decide(spa, taken.task_id, taken.version, decision, NOW)
    assert decided.outcome == "referred-on"
    request_ref = decided.referral
    assert request_ref is not None and request_ref.startswith("ServiceRequest/")
    request = spa.read("ServiceRequest", request_ref.split("/")[1]).content or {}
    assert request["performer"] == [{"reference": COMMUNITY_TEAM}]
    assert request["subject"]["reference"] == patient
    assert request["priority"] == "asap"  # same-day, as the contact
    referrals = nurse.search(parse_search("Task", [("focus", request_ref), ("owner", COMMUNITY_TEAM)])).matches
    assert len(referrals) == 1 and referrals[0]["status"] == "requested"
    assert referrals[0]["code"]["coding"][0]["code"] == "fulfill"


def test_accepted_by_one_of_the_spas_own_teams(spa: CallerHandle) -> None:
    patient = f"Patient/{PERSON.patient_id}"
    taken = service.take_contact(spa, phone_call(patient), NOW)
    with pytest.raises(InvalidRequest):  # not one of the SPA's own teams
        service.decide(spa, taken.task_id, taken.version, service.Decision("accepted-by-spa", service=COMMUNITY_TEAM))
    assert [t["id"] for t in service.spa_teams(spa, "Organization/org-zrn")] == ["svc-spa-response"]
    decided = service.decide(spa, taken.task_id, taken.version, service.Decision("accepted-by-spa", service=SPA_TEAM))
    assert decided.outcome == "accepted-by-spa"
    referral = spa.search(parse_search("Task", [("focus", str(decided.referral))])).matches[0]
    assert referral["owner"]["reference"] == SPA_TEAM
    assert referral["status"] == "accepted"


def test_refusals_change_nothing(spa: CallerHandle, gp: CallerHandle, gate: AccessGate) -> None:
    patient = f"Patient/{PERSON.patient_id}"
    with pytest.raises(Forbidden):
        service.take_contact(gp, phone_call(patient), NOW)  # no triage capability
    taken = service.take_contact(spa, phone_call(patient), NOW)
    unknown = service.take_contact(spa, phone_call(None), NOW)
    requests_before = count(spa, "ServiceRequest", ("subject", patient))
    with pytest.raises(Forbidden):
        service.decide(gp, taken.task_id, taken.version, service.Decision("advice"))
    with pytest.raises(Conflict):  # a stale form: the version the page showed is not the current one
        service.decide(spa, taken.task_id, "999", service.Decision("advice"))
    with pytest.raises(Conflict):  # nobody to refer yet
        service.decide(spa, unknown.task_id, unknown.version,
                       service.Decision("referred-on", service=COMMUNITY_TEAM))  # fmt: skip
    with pytest.raises(InvalidRequest):  # an unknown service
        service.decide(spa, taken.task_id, taken.version,
                       service.Decision("referred-on", service="HealthcareService/nowhere"))  # fmt: skip
    assert service.contact(spa, taken.task_id).version == taken.version
    assert service.contact(spa, unknown.task_id).version == unknown.version
    service.decide(spa, taken.task_id, taken.version, service.Decision("advice"))
    with pytest.raises(Conflict):  # decided already (the same form submitted twice)
        service.decide(spa, taken.task_id, taken.version, service.Decision("referred-on", service=COMMUNITY_TEAM))
    after = service.contact(spa, taken.task_id)
    assert after.outcome == "advice"
    assert count(spa, "ServiceRequest", ("subject", patient)) == requests_before


def test_the_team_manager_may_triage_too(manager: CallerHandle) -> None:
    taken = service.take_contact(manager, phone_call(f"Patient/{PERSON.patient_id}"), NOW)
    assert [c.task_id for c in service.queue(manager, [SPA], NOW)] == [taken.task_id]


def test_a_contact_about_someone_nobody_knows_yet(gate: AccessGate) -> None:
    spa = staff(gate, place.COMMUNITY, 2, "spa-triage")
    taken = service.take_contact(spa, phone_call(f"Patient/{STRANGER}"), NOW)
    assert taken.patient == f"Patient/{STRANGER}"


def test_tracing_finds_anyone_for_the_single_point_of_access_only(gate: AccessGate) -> None:
    wanted = [("family", "Stranger"), ("birthdate", "1950-01-01")]
    spa = staff(gate, place.COMMUNITY, 2, "spa-triage")
    assert [p["id"] for p in spa.search(parse_search("Patient", wanted)).matches] == []  # no relationship yet
    assert [p["id"] for p in spa.trace(TRIAGE, parse_search("Patient", wanted)).matches] == [STRANGER]
    for vague in ([("family", "Stranger")], [("birthdate", "1950-01-01")], [("gender", "female")]):
        with pytest.raises(InvalidRequest):  # a trace names someone: no browsing the place
            spa.trace(TRIAGE, parse_search("Patient", vague))
    with pytest.raises(InvalidRequest):
        spa.trace(TRIAGE, parse_search("Observation", [("code", "x")]))
    gp = staff(gate, place.PRACTICE, 1, "gp")
    with pytest.raises(Forbidden):  # a GP is no front door, even naming triage
        gp.trace(TRIAGE, parse_search("Patient", wanted))


def test_only_the_contact_and_its_triage_task_start_a_relationship(gate: AccessGate) -> None:
    spa = staff(gate, place.COMMUNITY, 2, "spa-triage")
    note = {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
            "subject": {"reference": f"Patient/{STRANGER}"}}  # fmt: skip
    with pytest.raises(Forbidden):  # clinical content about them still needs the relationship
        spa.create(note)
    gp = staff(gate, place.PRACTICE, 1, "gp")
    with pytest.raises(Forbidden):  # nor may anyone without triage start one with a contact
        service.take_contact(gp, phone_call(f"Patient/{STRANGER}"), NOW)
    service.take_contact(spa, phone_call(f"Patient/{STRANGER}"), NOW)
    assert spa.read("Patient", STRANGER).id == STRANGER  # the open triage Task is now the relationship
    spa.create(note)
