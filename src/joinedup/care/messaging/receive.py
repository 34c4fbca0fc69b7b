"""Receiving a BaRS referral (decision 0502), through the caller's handle: find the receiving service and the person,
then make, cancel or replace the referral in one transaction (`write_together`), or refuse and write nothing.

- new: a ServiceRequest and its Task owned by the service (care.referrals.model's shapes). When the sender's
  ServiceRequest is one this service already holds open (the same sender id, or one it `replaces`), that is a
  re-referral: the open one is revoked (its Task cancelled) in the same transaction, first.
- update, ServiceRequest revoked: the sender cancels. Only an active referral may be cancelled (409 otherwise).
- update, ServiceRequest active: a re-referral, as above; any other status is a workflow the standard does not
  define (400 invariant).
- The same message again (its Bundle id is on the ServiceRequest it made or changed): 409 duplicate, nothing new.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from joinedup.access.handle import CallerHandle
from joinedup.care.referrals.model import Referral, instant, referral_resources, step_concept, task_status_of
from joinedup.care.vocabulary import vocabulary
from joinedup.fhir.nhs_number import NHS_NUMBER_SYSTEM
from joinedup.fhir.search_request import parse_search

from . import content
from .message import DOS_SYSTEMS, NEW, REFERRAL_RESPONSE, Message, read_message
from .outcomes import Refused, not_found
from .response import response_message

Resource = dict[str, Any]
OPEN_TASK = ("draft", "requested", "received", "accepted", "ready", "in-progress", "on-hold")


@dataclass(frozen=True)
class Held:
    """A referral this service holds: the ServiceRequest and its Task as read (their versions for If-Match)."""

    request: Resource
    task: Resource | None

    @property
    def is_open(self) -> bool:
        return self.request.get("status") == "active" and (self.task is None or self.task.get("status") in OPEN_TASK)


def _search(caller: CallerHandle, resource_type: str, pairs: list[tuple[str, str]]) -> list[Resource]:
    return list(caller.search(parse_search(resource_type, [*pairs, ("_count", "50")])).matches)


def find_service(caller: CallerHandle, destination: tuple[str, str]) -> Resource:
    """The HealthcareService whose identifier is the message's destination (directory data, read as the caller)."""
    system, value = destination
    systems = DOS_SYSTEMS if system in DOS_SYSTEMS else (system,)
    found = {
        s["id"]: s for sys in systems for s in _search(caller, "HealthcareService", [("identifier", f"{sys}|{value}")])
    }
    where = "MessageHeader.destination[0].endpoint"
    if not found:
        raise not_found(f"No service here has the identifier {system}|{value}", where)
    if len(found) > 1:
        raise Refused(422, "processing", "More than one service here has this identifier", where)
    service = next(iter(found.values()))
    if service.get("active") is False:
        raise Refused(422, "processing", f"{service.get('name') or 'The service'} is not taking referrals", where)
    return service


def find_patient(caller: CallerHandle, nhs_number: str) -> Resource:
    """The person's record by NHS number. Several partners may each hold a record of one person: the one with a GP
    registration is the person's own, else the first by id (the person index joins the rest)."""
    found = _search(caller, "Patient", [("identifier", f"{NHS_NUMBER_SYSTEM}|{nhs_number}")])
    if not found:
        raise not_found("No record of a person with this NHS number is held here", "Patient.identifier")
    return sorted(found, key=lambda p: (not p.get("generalPractitioner"), str(p["id"])))[0]


def _held(caller: CallerHandle, request: Resource) -> Held:
    tasks = _search(caller, "Task", [("focus", f"ServiceRequest/{request['id']}")])
    return Held(request, tasks[0] if tasks else None)


def find_referral(caller: CallerHandle, message: Message, service_id: str, key: str | None = None) -> Held | None:
    """The referral this service holds for the sender's ServiceRequest (by the sender's id, or an identifier the
    sender gave it); the open one first, then the latest."""
    pairs = [(vocabulary().system("bars_servicerequest"), key or message.sender_key)]
    if key is None:
        pairs += [(i["system"], i["value"]) for i in message.focus.get("identifier") or [] if i.get("system")]
    found: dict[str, Resource] = {}
    for system, value in pairs:
        for request in _search(caller, "ServiceRequest", [("identifier", f"{system}|{value}")]):
            performers = [p.get("reference") for p in request.get("performer") or []]
            if f"HealthcareService/{service_id}" in performers:
                found[request["id"]] = request
    if not found:
        return None
    ordered = sorted(found.values(), key=lambda r: (r.get("status") == "active", r["meta"]["lastUpdated"]))
    return _held(caller, ordered[-1])


def already_processed(caller: CallerHandle, message: Message) -> bool:
    marked = f"{vocabulary().system('bars_message')}|{message.message_id}"
    return bool(_search(caller, "ServiceRequest", [("identifier", marked)]))


def _requester(caller: CallerHandle, message: Message) -> Resource:
    code = content.ods_code_of(message.sender)
    ours = _search(caller, "Organization", [("identifier", f"{content.ODS_SYSTEMS[0]}|{code}")]) if code else []
    return content.requester_of(message.sender, str(ours[0]["id"]) if ours else None)


def _put(resource: Resource) -> Resource:
    return {
        "fullUrl": f"{resource['resourceType']}/{resource['id']}",
        "resource": resource,
        "request": {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}",
                    "ifMatch": f'W/"{resource["meta"]["versionId"]}"'},
    }  # fmt: skip


def _closing(held: Held, message: Message, now: datetime, why: str) -> list[Resource]:
    """The entries that revoke a held referral: the ServiceRequest revoked (carrying this message's id, so a resend
    is recognised) and its Task cancelled with a note of why."""
    marked = {"system": vocabulary().system("bars_message"), "value": message.message_id}
    request = {**held.request, "status": "revoked", "identifier": [*held.request.get("identifier", []), marked]}
    entries = [_put(request)]
    if held.task is not None:
        note = {"time": instant(now), "text": why, "authorReference": held.request.get("requester")}
        note = {k: v for k, v in note.items() if v}
        task = {**held.task, "status": task_status_of("cancelled"), "businessStatus": step_concept("cancelled"),
                "lastModified": instant(now), "note": [*held.task.get("note", []), note]}  # fmt: skip
        entries.append(_put(task))
    return entries


def _new_entries(
    caller: CallerHandle, message: Message, patient: Resource, service: Resource, now: datetime
) -> list[Resource]:
    new = content.new_referral(message, str(patient["id"]), str(service["id"]))
    request, task = referral_resources(new, now)
    requester = _requester(caller, message)
    request["requester"] = task["requester"] = requester
    request_url = f"urn:uuid:{uuid.uuid4()}"
    task["focus"] = {"reference": request_url}
    return [
        {"fullUrl": request_url, "resource": request, "request": {"method": "POST", "url": "ServiceRequest"}},
        {"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": task, "request": {"method": "POST", "url": "Task"}},
    ]


def _write(caller: CallerHandle, entries: list[Resource]) -> Referral:
    """Everything in one transaction; then the referral it made or changed, read back."""
    results = caller.write_together({"resourceType": "Bundle", "type": "transaction", "entry": entries})
    written = [str(r.location or "").split("/_history/")[0] for r in results]
    request_ref = next(w for w in written if w.startswith("ServiceRequest/"))
    task_ref = next((w for w in written if w.startswith("Task/")), None)
    request = caller.read("ServiceRequest", request_ref.split("/", 1)[1]).content or {}
    task = caller.read("Task", task_ref.split("/", 1)[1]).content or {} if task_ref else {}
    return Referral(task, request)


def _replaced_keys(message: Message) -> list[str]:
    keys = []
    for replaced in message.focus.get("replaces") or []:
        reference = str((replaced or {}).get("reference") or "")
        if reference:
            target = message.resolve(reference)
            keys.append(str(target.get("id")) if target and target.get("id") else reference.rsplit("/", 1)[-1])
    return [k.removeprefix("urn:uuid:") for k in keys]


def _re_referral(caller: CallerHandle, message: Message, service_id: str) -> list[Held]:
    """The open referrals this message replaces: the sender's same ServiceRequest, or the ones it `replaces`."""
    held = [find_referral(caller, message, service_id)]
    held += [find_referral(caller, message, service_id, key) for key in _replaced_keys(message)]
    unique = {h.request["id"]: h for h in held if h is not None and h.is_open}
    return list(unique.values())


def _cancel(caller: CallerHandle, message: Message, service_id: str, now: datetime) -> Referral:
    held = find_referral(caller, message, service_id)
    if held is None:
        raise not_found("This service holds no referral for the message's ServiceRequest", "MessageHeader.focus[0]")
    if not held.is_open:
        status = (
            held.task.get("status")
            if held.task and held.request.get("status") == "active"
            else held.request.get("status")
        )
        raise Refused(409, "conflict", f"Only an active referral may be cancelled; this one is {status}",
                      "ServiceRequest.status")  # fmt: skip
    return _write(caller, _closing(held, message, now, "Cancelled by the sender (BaRS update)"))


def receive(caller: CallerHandle, bundle: Resource, now: datetime | None = None) -> tuple[Message, Referral, Resource]:
    """Process one message: (the message, the referral made or changed, the receiving service)."""
    moment = now or datetime.now(UTC)
    message = read_message(bundle)
    service = find_service(caller, message.destination)
    service_id = str(service["id"])
    if message.event == REFERRAL_RESPONSE:
        raise not_found(f"No referral was sent from here as message {message.answers}", "MessageHeader.response")
    if already_processed(caller, message):
        raise Refused(409, "duplicate", "This message has been recognised as having already been successfully "
                      "processed", "Bundle.id")  # fmt: skip
    status = message.focus.get("status")
    if message.reason != NEW and status == "revoked":
        return message, _cancel(caller, message, service_id, moment), service
    if message.reason != NEW and status != "active":
        raise Refused(400, "invariant", f"An update with a ServiceRequest {status} is not a workflow of the standard: "
                      "revoked cancels, active re-refers", "ServiceRequest.status")  # fmt: skip
    replaced = _re_referral(caller, message, service_id)
    if message.reason != NEW and not replaced:
        raise not_found(
            "This service holds no open referral for the message's ServiceRequest", "MessageHeader.focus[0]"
        )
    if message.reason == NEW and status != "active":
        raise Refused(400, "invariant", "A new referral's ServiceRequest must be active", "ServiceRequest.status")
    patient = find_patient(caller, message.nhs_number)
    entries = _new_entries(caller, message, patient, service, moment)
    for held in replaced:
        entries += _closing(held, message, moment, "Replaced by a new referral from the sender (BaRS re-referral)")
    return message, _write(caller, entries), service


__all__ = ["Refused", "receive", "response_message"]
