"""The vulnerable person flag (raised, seen by every partner with a relationship on the record, reviewed, closed)
and telecare alerts queued by the after-write hook."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient

from joinedup.access.gate import AccessGate
from joinedup.access.handle import CallerHandle
from joinedup.care.triage import flags, service
from joinedup.care.vocabulary import vocabulary
from joinedup.fhir.errors import Conflict, Forbidden, InvalidRequest
from joinedup.fhir.search_request import parse_search
from joinedup.web.record import record_for

from .conftest import DEVICE, PERSON, SPA, extra_resources

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
SPA_USER = "PractitionerRole/role-zrn-2"


def test_a_raised_flag_is_on_the_record_for_every_partner_until_closed(
    spa: CallerHandle, gp: CallerHandle, nurse: CallerHandle
) -> None:
    patient = f"Patient/{PERSON.patient_id}"
    flag_id = flags.raise_flag(spa, patient, "Lives alone, confused at night: call before visiting",
                               date(2027, 1, 4), SPA_USER, NOW)  # fmt: skip
    flag = spa.read("Flag", flag_id).content or {}
    assert flag["status"] == "active"
    assert flag["category"][0]["coding"][0]["code"] == "vulnerable-person"
    assert flag["period"] == {"start": "2026-12-07T09:00:00Z", "end": "2027-01-04T23:59:59Z"}
    assert flag["author"]["reference"] == SPA_USER
    for partner in (gp, nurse):  # the GP (registered) and the district nurse (the trust's referral)
        shown = record_for(partner, [PERSON.patient_id]).flags
        assert [(f.id, f.what, f.review) for f in shown] == [
            (flag_id, "Lives alone, confused at night: call before visiting", "4 January 2027")
        ]
    version = str(spa.read("Flag", flag_id).version_id)
    reviewed = flags.change_flag(spa, flag_id, version, "review", date(2027, 2, 1), NOW)
    assert reviewed["period"]["end"] == "2027-02-01T23:59:59Z"
    with pytest.raises(Conflict):  # the same form again
        flags.change_flag(spa, flag_id, version, "close", None, NOW)
    with pytest.raises(Forbidden):  # the GP sees it, but the single point of access reviews and closes it
        flags.change_flag(gp, flag_id, str(spa.read("Flag", flag_id).version_id), "close", None, NOW)
    flags.change_flag(spa, flag_id, str(spa.read("Flag", flag_id).version_id), "close", None, NOW)
    assert record_for(gp, [PERSON.patient_id]).flags == []


def test_a_flag_needs_a_reason_and_a_future_review_date(spa: CallerHandle) -> None:
    patient = f"Patient/{PERSON.patient_id}"
    with pytest.raises(InvalidRequest):
        flags.raise_flag(spa, patient, "", date(2027, 1, 4), SPA_USER, NOW)
    with pytest.raises(InvalidRequest):
        flags.raise_flag(spa, patient, "Confused", date(2026, 1, 4), SPA_USER, NOW)
    with pytest.raises(InvalidRequest):
        flags.raise_flag(spa, patient, "Confused", None, SPA_USER, NOW)
    assert record_for(spa, [PERSON.patient_id]).flags == []


def alert(subject: str | None) -> dict[str, object]:
    words = vocabulary()
    resource: dict[str, object] = {
        "resourceType": "Communication",
        "status": "completed",
        "category": [words.get("contact_routes", "telecare").concept(),
                     words.get("contact_from", "telecare").concept()],
        "medium": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode",
                                "code": "ELECTRONIC"}]}],
        "sender": {"reference": f"Device/{DEVICE}"},
        "recipient": [{"reference": SPA}],
        "sent": "2026-12-07T03:12:00Z",
        "payload": [{"contentString": "Fall detector activated, no answer on the speaker"}],
    }  # fmt: skip
    if subject:
        resource["subject"] = {"reference": subject}
    return resource


def test_a_telecare_alert_joins_the_queue_same_day(gate: AccessGate, spa: CallerHandle) -> None:
    system = gate.for_system("telecare-platform")
    created = system.create(alert(None))  # the Device says whose alarm it is
    queue = service.queue(spa, [SPA], NOW)
    assert len(queue) == 1
    contact = queue[0]
    assert contact.communication["id"] == created.written.id
    assert contact.route == "telecare" and contact.came_from == "telecare"
    assert contact.urgency == "same-day"
    assert contact.patient == f"Patient/{PERSON.patient_id}"  # from Device.patient, also set on the subject
    assert contact.communication["subject"]["reference"] == f"Patient/{PERSON.patient_id}"
    assert contact.task["restriction"]["period"]["end"] == "2026-12-08T03:12:00Z"  # 24 hours from the alarm
    system.update("Communication", str(created.written.id), {**contact.communication, "status": "completed"})
    assert len(service.queue(spa, [SPA], NOW)) == 1  # written again: still one Task
    tasks = system.search(parse_search("Task", [("focus", f"Communication/{created.written.id}")])).matches
    assert len(tasks) == 1


def test_a_telecare_alert_for_nobody_known_is_the_spas_to_identify(gate: AccessGate, spa: CallerHandle) -> None:
    system = gate.for_system("telecare-platform")
    unknown = alert(None)
    unknown["sender"] = {"display": "Alarm unit 0047 (not registered)"}
    system.create(unknown)
    queue = service.queue(spa, [SPA], NOW)
    assert len(queue) == 1 and queue[0].patient is None
    assert queue[0].communication["payload"][0]["contentString"] == "Fall detector activated, no answer on the speaker"


def test_a_message_that_is_not_a_telecare_alert_is_left_alone(gate: AccessGate, spa: CallerHandle) -> None:
    other = alert(f"Patient/{PERSON.patient_id}")
    other["category"] = [vocabulary().get("contact_routes", "message").concept()]
    gate.for_system("feed").create(other)
    assert service.queue(spa, [SPA], NOW) == []


def test_the_telecare_platform_posts_an_alert_through_the_fhir_api(web: TestClient) -> None:
    """The API path: a system client's plain FHIR create (care/install.py registers the hook in the app)."""
    gate = web.app.state.services.gate  # type: ignore[attr-defined]
    assert "care.triage.telecare" in gate.after_write.registered().get("Communication", [])
    device = next(r for r in extra_resources() if r["resourceType"] == "Device")  # the platform's own record of it
    fhir = {"Content-Type": "application/fhir+json"}
    assert web.put(f"/fhir/Device/{DEVICE}", json=device, headers=fhir).status_code in (200, 201)
    response = web.post("/fhir/Communication", json=alert(None), headers=fhir)
    assert response.status_code == 201, response.text
    system = gate.for_system("test")
    tasks = system.search(parse_search("Task", [("focus", f"Communication/{response.json()['id']}")])).matches
    assert len(tasks) == 1
    assert tasks[0]["priority"] == "asap" and tasks[0]["owner"]["reference"] == SPA
    assert tasks[0]["for"]["reference"] == f"Patient/{PERSON.patient_id}"
