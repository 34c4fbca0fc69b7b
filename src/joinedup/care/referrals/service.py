"""What referrals do, as functions taking the caller's handle (every read and write checked and audited by the gate).

`open_referral` is the one way a referral is made, whoever makes it (a professional from a record, the single point
of access referring on, a BaRS message): the ServiceRequest and its Task are written together or not at all.
"""

from __future__ import annotations

from datetime import UTC, datetime

from joinedup.access.handle import CallerHandle
from joinedup.care.permissions import REFERRAL_SEND
from joinedup.fhir.errors import InvalidRequest, NotFound

from .model import NewReferral, Referral, referral_resources, transaction_of


def _created_ids(results: list[object]) -> list[str]:
    ids = []
    for result in results:
        location = str(getattr(result, "location", "") or "")
        ids.append(location.split("/_history/")[0])
    return ids


def open_referral(caller: CallerHandle, new: NewReferral, now: datetime | None = None) -> Referral:
    """Refer a person to a service. The service must exist and be active (an unknown one is refused before anything
    is written); the caller needs `referral.send` and a relationship with the person (the gate checks each entry)."""
    caller.require(REFERRAL_SEND)
    kind, _, service_id = new.service.partition("/")
    if kind != "HealthcareService" or not service_id:
        raise InvalidRequest("Choose a service to refer to", location="ServiceRequest.performer")
    try:
        service = caller.read("HealthcareService", service_id).content or {}
    except NotFound:
        raise InvalidRequest(
            f"There is no service {new.service} to refer to", location="ServiceRequest.performer"
        ) from None
    if service.get("active") is False:
        raise InvalidRequest(f"{service.get('name') or new.service} is not taking referrals", location="performer")
    request, task = referral_resources(new, now or datetime.now(UTC))
    results = caller.write_together(transaction_of(request, task))
    request_ref, task_ref = _created_ids(list(results))
    request = caller.read("ServiceRequest", request_ref.split("/", 1)[1]).content or {}
    task = caller.read("Task", task_ref.split("/", 1)[1]).content or {}
    return Referral(task, request)
