"""Every step of a referral through the caller's handle, on both databases: who may take it, from which step, with
which version; what each step writes (Task and ServiceRequest together); and what is refused, changing nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from joinedup.access.gate import AccessGate
from joinedup.care.referrals import service
from joinedup.care.referrals.model import NewReferral
from joinedup.care.referrals.service import StepInput, actions_for, read_referral, take
from joinedup.fhir.errors import Conflict, Forbidden, InvalidRequest, NotFound

from .conftest import (
    ANALYST,
    GP,
    MANAGER,
    MENTAL_HEALTH,
    MENTAL_HEALTH_2,
    NURSE,
    PATIENT,
    SENT,
    SOCIAL_WORKER,
    SPA_NURSE,
    as_,
    refer,
)

LATER = SENT + timedelta(hours=3)


def _unchanged(gate: AccessGate, task_id: str, version: int) -> None:
    seen = read_referral(gate.for_system("test"), task_id)
    assert seen.version == version, "a refused step changed the referral"


def _sees_record(gate: AccessGate, who: object) -> bool:
    try:
        gate.for_caller(who).read("Patient", PATIENT)  # type: ignore[arg-type]
    except NotFound:
        return False
    return True


def test_open_writes_the_request_and_its_task(gate: AccessGate) -> None:
    referral = refer(gate)
    assert referral.step == "sent" and referral.status == "requested"
    assert referral.owner == referral.service == "HealthcareService/svc-zrn"
    assert referral.sender == GP.user and referral.urgency == "72-hours"
    assert referral.due == SENT + timedelta(hours=72)
    assert referral.request["status"] == "active" and referral.version == 1


def test_accept_allocate_first_contact_complete(gate: AccessGate) -> None:
    referral = refer(gate)
    nurse, manager = as_(gate, NURSE), as_(gate, MANAGER)
    referral = service.accept(nurse, referral.task_id, referral.version, "We will visit this week")
    assert (referral.step, referral.status) == ("accepted", "accepted")
    referral = service.allocate(manager, referral.task_id, referral.version, NURSE.user)
    assert referral.owner == NURSE.user and referral.step == "allocated" and referral.status == "accepted"
    referral = take(nurse, referral.task_id, referral.version, "first-contact", StepInput(when=LATER), now=LATER)
    assert referral.status == "in-progress" and referral.first_contact == LATER
    referral = service.complete(nurse, referral.task_id, referral.version, "Ulcer healed; discharged")
    assert referral.status == "completed" and referral.outcome == "Ulcer healed; discharged"
    assert referral.request["status"] == "completed"
    assert referral.task["executionPeriod"]["end"]
    # the sender sees every step: the conversation on the Task, its state and outcome
    seen = read_referral(as_(gate, GP), referral.task_id)
    assert [n["text"] for n in seen.notes] == ["We will visit this week", "Ulcer healed; discharged"]
    assert all(n["authorReference"]["reference"] == NURSE.user and n["time"] for n in seen.notes)
    assert seen.step == "completed" and seen.version == 5


def test_a_member_claims_the_teams_unallocated_work(gate: AccessGate) -> None:
    referral = refer(gate)
    referral = service.accept(as_(gate, MANAGER), referral.task_id, referral.version)
    assert [a.name for a in actions_for(as_(gate, NURSE), referral)].count("claim") == 1
    referral = service.claim(as_(gate, NURSE), referral.task_id, referral.version)
    assert referral.owner == NURSE.user and referral.step == "allocated"
    with pytest.raises(Conflict, match="cannot be claimed"):
        service.claim(as_(gate, MANAGER), referral.task_id, referral.version)
    _unchanged(gate, referral.task_id, referral.version)


def test_only_a_member_of_the_team_claims(gate: AccessGate) -> None:
    referral = refer(gate)
    referral = service.accept(as_(gate, NURSE), referral.task_id, referral.version)
    with pytest.raises(Forbidden, match="member of the receiving team"):
        service.claim(as_(gate, SPA_NURSE), referral.task_id, referral.version)  # same organisation, other team
    _unchanged(gate, referral.task_id, referral.version)


def test_decline_with_a_reason_the_sender_sees_then_accepting_is_refused(gate: AccessGate) -> None:
    referral = refer(gate)
    referral = service.decline(as_(gate, NURSE), referral.task_id, referral.version, "better-elsewhere",
                               "The tissue viability clinic sees leg ulcers")  # fmt: skip
    assert (referral.step, referral.status, referral.request["status"]) == ("declined", "rejected", "revoked")
    seen = read_referral(as_(gate, GP), referral.task_id)
    assert seen.decline_reason == "Another service is better placed"
    assert seen.notes[-1]["text"] == "The tissue viability clinic sees leg ulcers"
    with pytest.raises(Conflict, match=r"declined.*cannot be accepted"):
        service.accept(as_(gate, NURSE), referral.task_id, referral.version)
    _unchanged(gate, referral.task_id, referral.version)


def test_decline_needs_a_reason_from_the_list(gate: AccessGate) -> None:
    referral = refer(gate)
    with pytest.raises(InvalidRequest, match="why") as raised:
        service.decline(as_(gate, NURSE), referral.task_id, referral.version, "because")
    assert raised.value.location == "reason"
    _unchanged(gate, referral.task_id, referral.version)


def test_asking_for_and_giving_information(gate: AccessGate) -> None:
    referral = refer(gate)
    referral = service.request_information(as_(gate, NURSE), referral.task_id, referral.version, "Wound swab result?")
    assert (referral.step, referral.status) == ("information-requested", "on-hold")
    with pytest.raises(Forbidden, match="sent this referral"):
        service.give_information(as_(gate, NURSE), referral.task_id, referral.version, "Answering myself")
    with pytest.raises(InvalidRequest, match="Enter the information"):
        service.give_information(as_(gate, GP), referral.task_id, referral.version, "  ")
    _unchanged(gate, referral.task_id, referral.version)
    referral = service.give_information(as_(gate, GP), referral.task_id, referral.version, "Swab: no growth")
    assert (referral.step, referral.status) == ("information-given", "received")
    referral = service.accept(as_(gate, NURSE), referral.task_id, referral.version)
    assert referral.step == "accepted"
    assert [n["text"] for n in referral.notes] == ["Wound swab result?", "Swab: no growth"]


def test_redirect_moves_the_work_and_the_relationship(gate: AccessGate) -> None:
    referral = refer(gate)
    assert not _sees_record(gate, MENTAL_HEALTH)
    referral = service.redirect(as_(gate, NURSE), referral.task_id, referral.version, "HealthcareService/svc-zrt",
                                "Low mood is the main need")  # fmt: skip
    assert referral.step == "redirected" and referral.status == "requested"
    assert referral.owner == referral.service == "HealthcareService/svc-zrt"
    assert _sees_record(gate, MENTAL_HEALTH), "the new team has a relationship while the referral is open"
    with pytest.raises(Forbidden, match="receiving team"):
        service.accept(as_(gate, NURSE), referral.task_id, referral.version)  # the old team no longer holds it
    referral = service.accept(as_(gate, MENTAL_HEALTH), referral.task_id, referral.version)
    assert referral.step == "accepted"


def test_redirect_to_an_unknown_or_the_same_service_is_refused(gate: AccessGate) -> None:
    referral = refer(gate)
    nurse = as_(gate, NURSE)
    for target, words in (("HealthcareService/no-such", "no service"), ("HealthcareService/svc-zrn", "already"),
                          ("Organization/org-zrt", "Choose the service")):  # fmt: skip
        with pytest.raises(InvalidRequest, match=words):
            service.redirect(nurse, referral.task_id, referral.version, target)
    _unchanged(gate, referral.task_id, referral.version)


def test_the_receiving_team_gains_and_loses_the_relationship(gate: AccessGate) -> None:
    assert not _sees_record(gate, MENTAL_HEALTH)
    referral = refer(gate, service="svc-zrt")
    assert _sees_record(gate, MENTAL_HEALTH) and _sees_record(gate, MENTAL_HEALTH_2)
    referral = service.accept(as_(gate, MENTAL_HEALTH), referral.task_id, referral.version)
    referral = service.complete(as_(gate, MENTAL_HEALTH), referral.task_id, referral.version, "Seen twice; discharged")
    assert not _sees_record(gate, MENTAL_HEALTH), "a closed referral is no longer a relationship"
    with pytest.raises(NotFound):
        read_referral(as_(gate, MENTAL_HEALTH), referral.task_id)
    assert read_referral(as_(gate, GP), referral.task_id).step == "completed"  # the sender still sees it


def test_declining_ends_the_relationship_too(gate: AccessGate) -> None:
    referral = refer(gate, service="svc-zrt")
    service.decline(as_(gate, MENTAL_HEALTH), referral.task_id, referral.version, "not-eligible")
    assert not _sees_record(gate, MENTAL_HEALTH)


def test_a_stale_version_is_refused_and_changes_nothing(gate: AccessGate) -> None:
    referral = refer(gate)
    nurse = as_(gate, NURSE)
    accepted = service.accept(nurse, referral.task_id, referral.version)
    with pytest.raises(Conflict, match="changed since you opened it"):  # the same form submitted twice
        service.accept(nurse, referral.task_id, referral.version)
    with pytest.raises(Conflict, match="changed since you opened it"):
        service.cancel(as_(gate, GP), referral.task_id, referral.version)
    _unchanged(gate, referral.task_id, accepted.version)


def test_other_roles_and_other_teams_are_refused(gate: AccessGate) -> None:
    referral = refer(gate)
    with pytest.raises(Forbidden, match="may not do this"):
        service.accept(as_(gate, ANALYST), referral.task_id, referral.version)
    with pytest.raises(Forbidden, match="receiving team"):  # related to the person (an open episode), other team
        service.accept(as_(gate, SOCIAL_WORKER), referral.task_id, referral.version)
    with pytest.raises(NotFound):  # no relationship: the referral is not there for them
        service.accept(as_(gate, MENTAL_HEALTH), referral.task_id, referral.version)
    with pytest.raises(Forbidden, match="sent this referral"):
        service.cancel(as_(gate, NURSE), referral.task_id, referral.version)
    _unchanged(gate, referral.task_id, referral.version)


def test_the_teams_organisation_may_act_for_it(gate: AccessGate) -> None:
    referral = refer(gate)
    referral = service.accept(as_(gate, SPA_NURSE), referral.task_id, referral.version)
    assert referral.step == "accepted"


def test_allocate_only_to_a_member_of_the_team(gate: AccessGate) -> None:
    referral = refer(gate)
    referral = service.accept(as_(gate, MANAGER), referral.task_id, referral.version)
    for worker in (SPA_NURSE.user, MENTAL_HEALTH.user, "PractitionerRole/nobody", "Organization/org-zrn"):
        with pytest.raises(InvalidRequest, match="member of the receiving team"):
            service.allocate(as_(gate, MANAGER), referral.task_id, referral.version, worker)
    _unchanged(gate, referral.task_id, referral.version)


def test_allocating_before_accepting_is_refused(gate: AccessGate) -> None:
    referral = refer(gate)
    with pytest.raises(Conflict, match="'sent': it cannot be allocated"):
        service.allocate(as_(gate, MANAGER), referral.task_id, referral.version, NURSE.user)
    _unchanged(gate, referral.task_id, referral.version)


def test_first_contact_must_be_real(gate: AccessGate) -> None:
    referral = refer(gate)
    referral = service.accept(as_(gate, NURSE), referral.task_id, referral.version)
    for when, words in ((SENT - timedelta(days=1), "before the referral"), (SENT + timedelta(days=900), "past")):
        with pytest.raises(InvalidRequest, match=words):
            take(as_(gate, NURSE), referral.task_id, referral.version, "first-contact", StepInput(when=when), now=LATER)
    _unchanged(gate, referral.task_id, referral.version)


def test_complete_needs_an_outcome(gate: AccessGate) -> None:
    referral = refer(gate)
    referral = service.accept(as_(gate, NURSE), referral.task_id, referral.version)
    with pytest.raises(InvalidRequest, match="Enter the outcome"):
        service.complete(as_(gate, NURSE), referral.task_id, referral.version, "")
    _unchanged(gate, referral.task_id, referral.version)


def test_the_sender_cancels(gate: AccessGate) -> None:
    referral = refer(gate, service="svc-zrt")
    referral = service.cancel(as_(gate, GP), referral.task_id, referral.version, "Admitted to hospital")
    assert (referral.step, referral.status, referral.request["status"]) == ("cancelled", "cancelled", "revoked")
    assert not _sees_record(gate, MENTAL_HEALTH)
    with pytest.raises(Conflict, match="cannot be cancelled"):
        service.cancel(as_(gate, GP), referral.task_id, referral.version)


def test_unknown_service_and_no_relationship_write_nothing(gate: AccessGate) -> None:
    gp = as_(gate, GP)
    new = NewReferral(f"Patient/{PATIENT}", "HealthcareService/no-such", "X", "Y", "routine", GP.user)
    with pytest.raises(InvalidRequest, match="no service"):
        service.open_referral(gp, new)
    stranger = NewReferral(f"Patient/{PATIENT}", "HealthcareService/svc-zrn", "X", "Y", "routine", MENTAL_HEALTH.user)
    with pytest.raises(Forbidden):
        service.open_referral(as_(gate, MENTAL_HEALTH), stranger)  # no relationship with the person
    assert service.for_patient(gate.for_system("test"), PATIENT) == []


def test_unknown_step_and_unknown_referral(gate: AccessGate) -> None:
    referral = refer(gate)
    with pytest.raises(NotFound, match="no referral step"):
        take(as_(gate, NURSE), referral.task_id, referral.version, "approve", StepInput())
    with pytest.raises(NotFound):
        service.accept(as_(gate, NURSE), f"{PATIENT}-task", 1)  # a Task, but not a referral


def test_the_lists(gate: AccessGate) -> None:
    routine = refer(gate, urgency="routine")
    urgent = refer(gate, urgency="same-day", patient="pat-2")
    elsewhere = refer(gate, service="svc-zrt", patient="pat-3")
    allocated = refer(gate, urgency="same-day", patient="pat-3")
    allocated = service.accept(as_(gate, NURSE), allocated.task_id, allocated.version)
    service.claim(as_(gate, NURSE), allocated.task_id, allocated.version)
    nurse = as_(gate, NURSE)
    team = [r.task_id for r in service.for_team(nurse, ["HealthcareService/svc-zrn"])]
    assert team == [urgent.task_id, routine.task_id, allocated.task_id]  # unallocated first, then by urgency
    assert [r.task_id for r in service.received_by(nurse, NURSE.organisation or "")] == team
    sent = {r.task_id for r in service.sent_by(as_(gate, GP), GP.user)}
    assert sent == {routine.task_id, urgent.task_id, elsewhere.task_id, allocated.task_id}
    on_record = service.for_patient(as_(gate, GP), "pat-3")
    assert {r.task_id for r in on_record} == {elsewhere.task_id, allocated.task_id}
    assert all(r.request["id"] for r in on_record)
