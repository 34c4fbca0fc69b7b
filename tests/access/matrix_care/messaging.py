"""The access matrix's cells for BaRS messages (decision 0502): POST /fhir/$process-message, every role × cell.

A role holding `message.process` (the system) gets 200 and a referral for a valid message to a service the place
has, audited as its transaction; every other role gets 403 before anything is read, and nothing is written. The
receiving service belongs to an organisation of its own that no matrix user works for, and the person referred is
a record of their own, so the referrals these cells make change nobody's view of the matrix's people.

The message is built here, not read from ../shared, so the cells run wherever the matrix runs.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from sqlalchemy import select

from joinedup.fhir.nhs_number import NHS_NUMBER_SYSTEM, complete
from joinedup.store.context import SYSTEM
from joinedup.store.schema import resources

from ..test_matrix import CELLS, FHIR_JSON, Check, Place, audited, holds, no_leak, route
from ..test_matrix_place import _meta, role_org

MESSAGE_PROCESS = "message.process"
DOS = "https://fhir.nhs.uk/Id/dos-service-id"
DOS_ID = "900000001"
SERVICE_ID = "mx-bars-service"
PATIENT_ID = "mx-bars-person"
NHS_NUMBER = complete("900000001") or ""
BARS_MESSAGE = "https://joinedup.example/fhir/Id/bars-message"


def _receiving_service(place: Place) -> None:
    """The service (of an organisation no matrix user works for) and the person the messages refer."""
    owner = role_org("system")  # an organisation only the system "works for": it has no staff
    written = [
        {"resourceType": "Organization", "id": "mx-bars-org", "meta": _meta(owner), "name": "Matrix BaRS receiver"},
        {"resourceType": "HealthcareService", "id": SERVICE_ID, "meta": _meta(owner), "active": True,
         "providedBy": {"reference": "Organization/mx-bars-org"}, "name": "Matrix BaRS service",
         "identifier": [{"system": DOS, "value": DOS_ID}]},
        {"resourceType": "Patient", "id": PATIENT_ID, "meta": _meta(owner), "name": [{"family": "Bellweather"}],
         "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": NHS_NUMBER}]},
    ]  # fmt: skip
    for resource in written:
        place.store.update(SYSTEM, resource["resourceType"], resource["id"], resource)


def message() -> dict[str, Any]:
    """A valid servicerequest-request for the matrix's service, a new message each time."""
    urls = {name: f"urn:uuid:{uuid.uuid4()}" for name in ("header", "request", "patient", "sender")}
    header = {
        "resourceType": "MessageHeader",
        "eventCoding": {
            "system": "https://fhir.nhs.uk/CodeSystem/message-events-bars",
            "code": "servicerequest-request",
        },
        "reason": {"coding": [{"system": "https://fhir.nhs.uk/CodeSystem/message-reason-bars", "code": "new"}]},
        "destination": [{"endpoint": f"{DOS}|{DOS_ID}"}],
        "sender": {"reference": urls["sender"]},
        "source": {"endpoint": f"{DOS}|900000002"},
        "focus": [{"reference": urls["request"]}],
    }
    request = {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
               "subject": {"reference": urls["patient"]}, "code": {"text": "Matrix referral"}}  # fmt: skip
    patient = {"resourceType": "Patient", "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": NHS_NUMBER}]}
    sender = {"resourceType": "Organization", "name": "Matrix sender"}
    entries = [
        (urls["header"], header),
        (urls["request"], request),
        (urls["patient"], patient),
        (urls["sender"], sender),
    ]
    return {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "message",
            "entry": [{"fullUrl": url, "resource": resource} for url, resource in entries]}  # fmt: skip


def _made_by(place: Place, message_id: str) -> int:
    """How many ServiceRequests carry this message's id (read straight from the store, as nobody in particular)."""
    with place.store.engine.connect() as conn:
        rows = conn.execute(
            select(resources.c.content).where(
                resources.c.resource_type == "ServiceRequest", resources.c.deleted.is_(False)
            )
        ).all()
    marked = {"system": BARS_MESSAGE, "value": message_id}
    return sum(marked in orjson.loads(row.content).get("identifier", []) for row in rows)


@route("POST", "/fhir/$process-message", "write")
def _process_message(place: Place, check: Check, _: tuple[str, str]) -> None:
    _receiving_service(place)
    for cell in CELLS:
        expect = check.cell(cell)
        sent = message()
        seq = place.last_seq()
        response = place.api(cell.user, "POST", "/fhir/$process-message", content=orjson.dumps(sent), headers=FHIR_JSON)
        entries = place.audit_since(seq)
        made = _made_by(place, sent["id"])
        if holds(cell.role, MESSAGE_PROCESS):
            expect(response.status_code == 200, f"status {response.status_code}, expected 200: {response.text[:200]}")
            expect(made == 1, f"{made} referrals made, expected 1")
            audited(expect, entries, cell.user, {"transaction"}, "success")
        else:
            expect(response.status_code == 403, f"status {response.status_code}, expected 403")
            expect(made == 0, f"{made} referrals made by a refused message")
            writes = [e for e in entries if e.user == cell.user.user and e.action == "transaction"]
            expect(not writes, "a refused message reached the store")
        no_leak(expect, cell.user, response.text)
