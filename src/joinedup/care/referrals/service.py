"""What referrals do, as functions taking the caller's handle (every read and write checked and audited by the gate).

`open_referral` is the one way a referral is made, whoever makes it (a professional from a record, the single point
of access referring on, a BaRS message): the ServiceRequest and its Task are written together or not at all.

Every later step (decision 0501) is `take(caller, task_id, version, StepInput(...))` or one of the named functions
below: the caller names the Task version they saw (a stale one is refused, 409), the step must be allowed from the
referral's current step (steps.ACTIONS; otherwise 409) and the caller must be who takes it (the receiving team, or
the sender; otherwise 403). The Task (and the ServiceRequest when its status or performer changes) are written
together with If-Match, so a second submission of the same form changes nothing. The lists other workstreams call
are in queries.py and re-exported here.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from joinedup.access.handle import CallerHandle
from joinedup.care.permissions import REFERRAL_SEND
from joinedup.care.vocabulary import vocabulary
from joinedup.fhir.errors import Conflict, Forbidden, InvalidRequest, NotFound, PreconditionFailed

from . import parties
from .model import (
    NewReferral,
    Referral,
    instant,
    note,
    referral_resources,
    step_concept,
    task_status_of,
    transaction_of,
)
from .queries import for_patient, for_team, read_referral, received_by, sent_by
from .steps import ACTIONS, Action, refusal

__all__ = [
    "StepInput", "accept", "actions_for", "allocate", "cancel", "claim", "complete", "decline", "first_contact",
    "for_patient", "for_team", "give_information", "open_referral", "read_referral", "received_by",
    "redirect", "request_information", "sent_by", "take",
]  # fmt: skip

MAX_TEXT = 4000  # characters of a note: a letter's worth


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


@dataclass(frozen=True)
class StepInput:
    """What a step's form or Parameters carry besides the version: text for the note, and the step's own field."""

    text: str = ""
    reason: str = ""  # decline: a decline_reasons code
    service: str = ""  # redirect: "HealthcareService/<id>"
    worker: str = ""  # allocate: "PractitionerRole/<id>"
    when: datetime | None = None  # first contact: when it was made


def actions_for(caller: CallerHandle, referral: Referral) -> list[Action]:
    """The steps this caller may take on this referral now (what the page offers)."""
    found: list[Action] = []
    receiver: bool | None = None
    sender: bool | None = None
    for action in ACTIONS.values():
        if referral.step not in action.allowed_from or not caller.may(action.capability):
            continue
        if action.actor == "sender":
            sender = parties.is_sender(caller, referral) if sender is None else sender
            allowed = sender
        elif action.actor == "member":
            allowed = not referral.allocated and parties.is_member(caller, referral.service)
        else:
            receiver = parties.is_receiver(caller, referral) if receiver is None else receiver
            allowed = receiver
        if allowed:
            found.append(action)
    return found


def take(
    caller: CallerHandle, task_id: str, version: int, action_name: str, given: StepInput, now: datetime | None = None
) -> Referral:
    """Take one step of a referral (see the module's docstring for what is checked, in which order)."""
    action = ACTIONS.get(action_name)
    if action is None:
        raise NotFound(f"There is no referral step '{action_name}'")
    caller.require(action.capability)
    referral = read_referral(caller, task_id)
    _require_actor(caller, action, referral)
    if version != referral.version:
        raise Conflict(
            "This referral has changed since you opened it (someone else has acted on it): nothing was changed. "
            "Look at it again before you act."
        )
    if referral.step not in action.allowed_from:
        raise Conflict(refusal(action, referral.step))
    moment = now or datetime.now(UTC)
    text = _text(action, given.text)
    task, request = copy.deepcopy(referral.task), copy.deepcopy(referral.request)
    request_changed = _CHANGES[action.name](caller, referral, task, request, given, moment)
    task["status"] = task_status_of(action.leads_to)
    task["businessStatus"] = step_concept(action.leads_to)
    task["lastModified"] = instant(moment)
    if text:
        task["note"] = [*(task.get("note") or []), note(caller.context.user, text, moment)]
    return _write(caller, referral, task, request if request_changed else None)


def _require_actor(caller: CallerHandle, action: Action, referral: Referral) -> None:
    if action.actor == "sender":
        if not parties.is_sender(caller, referral):
            raise Forbidden("Only whoever sent this referral (or their organisation) may do this")
    elif action.actor == "member":
        if not parties.is_member(caller, referral.service):
            raise Forbidden("Only a member of the receiving team may take this referral on")
    elif not parties.is_receiver(caller, referral):
        raise Forbidden("Only the receiving team (or its organisation's staff) may act on this referral")


def _text(action: Action, given: str) -> str:
    text = given.strip()
    if len(text) > MAX_TEXT:
        raise InvalidRequest(f"Write no more than {MAX_TEXT} characters", location="text")
    if action.text == "required" and not text:
        words = {"request-information": "what information you need", "give-information": "the information asked for",
                 "complete": "the outcome"}.get(action.name, "a note")  # fmt: skip
        raise InvalidRequest(f"Enter {words}", location="text")
    return "" if action.text == "none" else text


def _write(caller: CallerHandle, referral: Referral, task: dict[str, Any], request: dict[str, Any] | None) -> Referral:
    entries = [_put(task, referral.version)]
    if request is not None:
        entries.append(_put(request, int((request.get("meta") or {}).get("versionId") or 0)))
    try:
        results = caller.write_together({"resourceType": "Bundle", "type": "transaction", "entry": entries})
    except PreconditionFailed:
        raise Conflict("This referral changed while you were acting on it: nothing was changed") from None
    # What was written, as written (not read back: closing a referral can end the caller's relationship with it).
    written = [r.resource for r in results if r.resource is not None]
    new_task = next((r for r in written if r.get("resourceType") == "Task"), task)
    new_request = next((r for r in written if r.get("resourceType") == "ServiceRequest"), referral.request)
    return Referral(new_task, new_request)


def _put(resource: dict[str, Any], version: int) -> dict[str, Any]:
    body = {k: v for k, v in resource.items() if k != "meta"}
    body["meta"] = {k: v for k, v in (resource.get("meta") or {}).items() if k not in {"versionId", "lastUpdated"}}
    url = f"{resource['resourceType']}/{resource['id']}"
    return {"resource": body, "request": {"method": "PUT", "url": url, "ifMatch": f'W/"{version}"'}}


# --- what each step changes besides status, businessStatus, lastModified and the note ------------------------------
Change = Any  # (caller, referral, task, request, given, now) -> whether the ServiceRequest changed


def _nothing(*_: Any) -> bool:
    return False


def _decline(_c: CallerHandle, _r: Referral, task: dict[str, Any], request: dict[str, Any], given: StepInput,
             _n: datetime) -> bool:  # fmt: skip
    try:
        reason = vocabulary().get("decline_reasons", given.reason)
    except KeyError:
        raise InvalidRequest("Choose why the referral is declined", location="reason") from None
    task["statusReason"] = reason.concept()
    request["status"] = "revoked"
    return True


def _redirect(caller: CallerHandle, referral: Referral, task: dict[str, Any], request: dict[str, Any],
              given: StepInput, _n: datetime) -> bool:  # fmt: skip
    target = given.service.strip()
    if not target.startswith("HealthcareService/") or target == "HealthcareService/":
        raise InvalidRequest("Choose the service to redirect the referral to", location="service")
    if target == referral.service:
        raise InvalidRequest("The referral is already with this service: choose another", location="service")
    service = parties.read_or_none(caller, target)
    if service is None:
        raise InvalidRequest(f"There is no service {target} to redirect to", location="service")
    if service.get("active") is False:
        raise InvalidRequest(f"{service.get('name') or target} is not taking referrals", location="service")
    task["owner"] = {"reference": target}
    request["performer"] = [{"reference": target}]
    return True


def _allocate(caller: CallerHandle, referral: Referral, task: dict[str, Any], _q: dict[str, Any],
              given: StepInput, _n: datetime) -> bool:  # fmt: skip
    worker = given.worker.strip()
    if parties.member_of(caller, worker, referral.service) is None:
        raise InvalidRequest("Choose a member of the receiving team to allocate the referral to", location="worker")
    task["owner"] = {"reference": worker, "display": parties.display_name(caller, worker)}
    return False


def _claim(caller: CallerHandle, referral: Referral, task: dict[str, Any], _q: dict[str, Any], _g: StepInput,
           _n: datetime) -> bool:  # fmt: skip
    if referral.allocated:
        raise Conflict("Someone has already been allocated this referral: nothing was changed")
    me = caller.context.user
    task["owner"] = {"reference": me, "display": parties.display_name(caller, me)}
    return False


def _first_contact(_c: CallerHandle, referral: Referral, task: dict[str, Any], _q: dict[str, Any],
                   given: StepInput, now: datetime) -> bool:  # fmt: skip
    when = given.when or now
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    if when > now + timedelta(minutes=5):
        raise InvalidRequest("The first contact must be now or in the past", location="when")
    sent = referral.authored
    if sent is not None and when < sent:
        raise InvalidRequest("The first contact cannot be before the referral was sent", location="when")
    task["executionPeriod"] = {**(task.get("executionPeriod") or {}), "start": instant(when)}
    return False


def _complete(_c: CallerHandle, _r: Referral, task: dict[str, Any], request: dict[str, Any], given: StepInput,
              now: datetime) -> bool:  # fmt: skip
    task["executionPeriod"] = {**(task.get("executionPeriod") or {}), "end": instant(now)}
    task["output"] = [{"type": {"text": "outcome"}, "valueString": given.text.strip()}]
    request["status"] = "completed"
    return True


def _cancel(_c: CallerHandle, _r: Referral, _t: dict[str, Any], request: dict[str, Any], _g: StepInput,
            _n: datetime) -> bool:  # fmt: skip
    request["status"] = "revoked"
    return True


_CHANGES: dict[str, Change] = {
    "accept": _nothing,
    "decline": _decline,
    "request-information": _nothing,
    "give-information": _nothing,
    "redirect": _redirect,
    "allocate": _allocate,
    "claim": _claim,
    "first-contact": _first_contact,
    "complete": _complete,
    "cancel": _cancel,
}


# --- the steps by name, for callers that know which one they take ---------------------------------------------------
def accept(caller: CallerHandle, task_id: str, version: int, text: str = "") -> Referral:
    return take(caller, task_id, version, "accept", StepInput(text=text))


def decline(caller: CallerHandle, task_id: str, version: int, reason: str, text: str = "") -> Referral:
    return take(caller, task_id, version, "decline", StepInput(text=text, reason=reason))


def request_information(caller: CallerHandle, task_id: str, version: int, text: str) -> Referral:
    return take(caller, task_id, version, "request-information", StepInput(text=text))


def give_information(caller: CallerHandle, task_id: str, version: int, text: str) -> Referral:
    return take(caller, task_id, version, "give-information", StepInput(text=text))


def redirect(caller: CallerHandle, task_id: str, version: int, service: str, text: str = "") -> Referral:
    return take(caller, task_id, version, "redirect", StepInput(text=text, service=service))


def allocate(caller: CallerHandle, task_id: str, version: int, worker: str, text: str = "") -> Referral:
    return take(caller, task_id, version, "allocate", StepInput(text=text, worker=worker))


def claim(caller: CallerHandle, task_id: str, version: int) -> Referral:
    return take(caller, task_id, version, "claim", StepInput())


def first_contact(caller: CallerHandle, task_id: str, version: int, when: datetime, text: str = "") -> Referral:
    return take(caller, task_id, version, "first-contact", StepInput(text=text, when=when))


def complete(caller: CallerHandle, task_id: str, version: int, outcome: str) -> Referral:
    return take(caller, task_id, version, "complete", StepInput(text=outcome))


def cancel(caller: CallerHandle, task_id: str, version: int, text: str = "") -> Referral:
    return take(caller, task_id, version, "cancel", StepInput(text=text))
