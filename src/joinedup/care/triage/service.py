"""What the single point of access does, as functions taking the caller's handle (each read and write checked and
audited by the gate): take a contact, list the queue, identify the person, decide.

Each change names the Task version the form showed (If-Match): a second submission of the same form, or a form
left open while a colleague decided, is refused (409) and changes nothing. A decision's writes (the triage Task's
completion, and the referral when it is referred on) go together in one transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from joinedup.access.handle import CallerHandle
from joinedup.care.permissions import REFERRAL_SEND, TRIAGE
from joinedup.care.referrals.model import NewReferral, instant, ref, referral_resources, step_concept, task_status_of
from joinedup.care.vocabulary import vocabulary
from joinedup.fhir.errors import Conflict, FhirError, Forbidden, InvalidRequest, NotFound, PreconditionFailed
from joinedup.fhir.search_request import parse_search

from .model import DECIDED, SPA_SERVICE_TYPE, SPA_TEAM, Contact, NewContact, contact_bundle, update_entry

Resource = dict[str, Any]
QUEUE_LIMIT = 500
URGENCY_ORDER = {code: rank for rank, code in enumerate(("same-day", "72-hours", "routine"))}


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _matches(caller: CallerHandle, resource_type: str, pairs: list[tuple[str, str]]) -> list[Resource]:
    return list(caller.search(parse_search(resource_type, pairs)).matches)


# --- the services -------------------------------------------------------------------------------------------------
def spa_services(caller: CallerHandle, organisation: str | None) -> list[Resource]:
    """The single points of access an organisation runs (HealthcareService typed as one): whose queue its staff
    work, and where their contacts arrive."""
    if not organisation:
        return []
    system, code = SPA_SERVICE_TYPE
    pairs = [("organization", organisation), ("service-type", f"{system}|{code}"), ("active", "true")]
    return _matches(caller, "HealthcareService", [*pairs, ("_count", "50")])


def spa_teams(caller: CallerHandle, organisation: str | None) -> list[Resource]:
    """The single point of access's own teams: its organisation's services marked `spa-team`."""
    if not organisation:
        return []
    found = _matches(caller, "HealthcareService", [("organization", organisation), ("active", "true"),
                                                   ("_count", "200")])  # fmt: skip
    teams = [s for s in found if any(c.get("text") == SPA_TEAM for c in s.get("characteristic") or [])]
    return sorted(teams, key=lambda s: str(s.get("name") or ""))


def services_to_refer_to(caller: CallerHandle) -> list[Resource]:
    """Every active service a contact may be referred on to (not a single point of access itself)."""
    system, code = SPA_SERVICE_TYPE
    found = _matches(caller, "HealthcareService", [("active", "true"), ("_count", "500")])

    def is_spa(service: Resource) -> bool:
        return any(
            c.get("system") == system and c.get("code") == code
            for t in service.get("type") or []
            for c in t.get("coding") or []
        )

    return sorted((s for s in found if not is_spa(s)), key=lambda s: str(s.get("name") or ""))


def _service(caller: CallerHandle, reference: str) -> Resource:
    kind, _, service_id = reference.partition("/")
    if kind != "HealthcareService" or not service_id:
        raise InvalidRequest("Choose a service", location="service")
    try:
        service = caller.read("HealthcareService", service_id).content or {}
    except NotFound:
        raise InvalidRequest(f"There is no service {reference}", location="service") from None
    if service.get("active") is False:
        raise InvalidRequest(f"{service.get('name') or reference} is not taking referrals", location="service")
    return service


# --- intake --------------------------------------------------------------------------------------------------------
def _check_codes(new: NewContact) -> None:
    words = vocabulary()
    for table, code, field in (("contact_routes", new.route, "route"), ("contact_from", new.came_from, "came_from"),
                               ("urgencies", new.urgency, "urgency")):  # fmt: skip
        if code not in words.table(table):
            raise InvalidRequest(f"Choose one of the {table.replace('_', ' ')}", location=field)
    if not new.what.strip():
        raise InvalidRequest("Enter what the contact is about", location="what")


def take_contact(caller: CallerHandle, new: NewContact, now: datetime | None = None) -> Contact:
    """Record a contact and its triage Task together. The person is optional (not yet identified): the gate then
    shows both to the writer's organisation only (they carry its source tag)."""
    caller.require(TRIAGE)
    _check_codes(new)
    _service(caller, new.spa)
    results = caller.write_together(contact_bundle(new, _now(now)))
    task_id = str(results[1].location).split("/_history/")[0].split("/", 1)[1]
    return contact(caller, task_id)


# --- reading -------------------------------------------------------------------------------------------------------
def contact(caller: CallerHandle, task_id: str) -> Contact:
    """A contact by its triage Task's id; NotFound for any other Task (or one the caller may not see)."""
    task = caller.read("Task", task_id).content or {}
    if not _is_triage(task):
        raise NotFound(f"Task/{task_id} is not a contact at the single point of access")
    focus = str((task.get("focus") or {}).get("reference") or "")
    kind, _, focus_id = focus.partition("/")
    if kind != "Communication":
        raise NotFound(f"Task/{task_id} has no contact")
    return Contact(task, caller.read("Communication", focus_id).content or {})


def _is_triage(task: Resource) -> bool:
    system = vocabulary().system("work_kind")
    return any(
        c.get("system") == system and c.get("code") == "triage" for c in (task.get("code") or {}).get("coding") or []
    )


def queue(caller: CallerHandle, spas: list[str], now: datetime | None = None) -> list[Contact]:
    """The open contacts at these single points of access, the most urgent first, then the longest waiting."""
    if not spas:
        return []
    caller.require(TRIAGE)
    pairs = [
        ("code", f"{vocabulary().system('work_kind')}|triage"),
        ("owner", ",".join(spas)),
        ("status", "requested"),
        ("_include", "Task:focus"),
        ("_count", str(QUEUE_LIMIT)),
    ]
    page = caller.search(parse_search("Task", pairs))
    contacts = {f"Communication/{r['id']}": r for r in page.included if r.get("resourceType") == "Communication"}
    found = [Contact(t, contacts.get(str((t.get("focus") or {}).get("reference")), {})) for t in page.matches]
    moment = _now(now)
    return sorted(found, key=lambda c: (URGENCY_ORDER.get(c.urgency, 9), c.received or moment, c.task_id))


# --- changing a contact --------------------------------------------------------------------------------------------
def _open_contact(caller: CallerHandle, task_id: str, version: str) -> Contact:
    caller.require(TRIAGE)
    found = contact(caller, task_id)
    if not found.is_open:
        raise Conflict("This contact has already been decided: nothing was changed")
    if version != found.version:
        raise Conflict("Someone changed this contact after you opened it: nothing was changed. Look at it again.")
    return found


def _together(caller: CallerHandle, entries: list[Resource]) -> list[Any]:
    try:
        return list(caller.write_together({"resourceType": "Bundle", "type": "transaction", "entry": entries}))
    except PreconditionFailed:
        raise Conflict("Someone changed this contact after you opened it: nothing was changed") from None


def identify(caller: CallerHandle, task_id: str, version: str, patient: str, now: datetime | None = None) -> Contact:
    """Link a contact taken before the person was known: the Communication's subject and the Task's `for`."""
    found = _open_contact(caller, task_id, version)
    if found.patient:
        raise Conflict("This contact is already linked to a person: nothing was changed")
    if not patient.startswith("Patient/") or len(patient) <= len("Patient/"):
        raise InvalidRequest("Choose the person the contact is about", location="patient")
    moment = instant(_now(now))
    task = {**found.task, "for": ref(patient), "lastModified": moment}
    communication = {**found.communication, "subject": ref(patient)}
    _together(caller, [update_entry(task, found.version),
                       update_entry(communication, found.communication_version)])  # fmt: skip
    return contact(caller, task_id)


@dataclass(frozen=True)
class Decision:
    outcome: str  # a triage_outcomes code
    note: str = ""  # the advice given, or anything the next service should know
    service: str = ""  # "HealthcareService/<id>" referred on to (referred-on) or the SPA's team (accepted-by-spa)
    what: str = ""  # what is asked of that service
    reason: str = ""  # a decline_reasons code
    decided_by: str | None = None  # the PractitionerRole deciding


def _completed(found: Contact, decision: Decision, moment: str) -> Resource:
    words = vocabulary()
    task = {**found.task, "status": DECIDED, "lastModified": moment,
            "businessStatus": words.get("triage_outcomes", decision.outcome).concept(),
            "executionPeriod": {"start": (found.task.get("executionPeriod") or {}).get("start") or moment,
                                "end": moment}}  # fmt: skip
    if decision.reason:
        task["statusReason"] = words.get("decline_reasons", decision.reason).concept()
    if decision.note.strip():
        note: Resource = {"time": moment, "text": decision.note.strip()}
        if decision.decided_by:
            note["authorReference"] = ref(decision.decided_by)
        task["note"] = [*(found.task.get("note") or []), note]
    return task


def decide(
    caller: CallerHandle, task_id: str, version: str, decision: Decision, now: datetime | None = None
) -> Contact:
    """Decide a contact: advice (closed at first contact), referred on, accepted by one of the SPA's own teams (a
    referral to that team, accepted there and then), or declined with a reason. Anything the state does not allow
    (decided already, a stale form, a contact nobody is identified for that needs a referral) changes nothing."""
    words = vocabulary()
    if decision.outcome not in words.table("triage_outcomes"):
        raise InvalidRequest("Choose a decision", location="outcome")
    found = _open_contact(caller, task_id, version)
    moment = _now(now)
    entries: list[Resource] = []
    task = _completed(found, decision, instant(moment))
    if decision.outcome == "declined" and decision.reason not in words.table("decline_reasons"):
        raise InvalidRequest("Choose the reason for declining", location="reason")
    if decision.outcome in {"referred-on", "accepted-by-spa"}:
        entries = _referral_entries(caller, found, decision, moment)
        task["output"] = [{"type": {"text": "referral"}, "valueReference": {"reference": entries[0]["fullUrl"]}}]
    entries.append(update_entry(task, found.version))
    _together(caller, entries)
    return contact(caller, task_id)


def _referral_entries(caller: CallerHandle, found: Contact, decision: Decision, moment: datetime) -> list[Resource]:
    """The referral (ServiceRequest and Task, as referrals' open_referral writes them) to go with the decision."""
    caller.require(REFERRAL_SEND)
    if not found.patient:
        raise Conflict("Identify the person before referring them on: nothing was changed")
    service = _service(caller, decision.service)
    if decision.outcome == "accepted-by-spa" and not any(
        c.get("text") == SPA_TEAM for c in service.get("characteristic") or []
    ):
        raise InvalidRequest("Choose one of the single point of access's own teams", location="service")
    what = decision.what.strip() or found.what or "Referral from the single point of access"
    new = NewReferral(
        patient=found.patient,
        service=decision.service,
        what=what,
        reason=found.what or what,
        urgency=found.urgency,
        requester=decision.decided_by,
        note=decision.note.strip() or None,
    )
    request, referral_task = referral_resources(new, moment)
    if decision.outcome == "accepted-by-spa":  # the SPA accepts for its own team: the team's worklist holds it
        referral_task = {
            **referral_task,
            "status": task_status_of("accepted"),
            "businessStatus": step_concept("accepted"),
        }
    request_url = f"urn:uuid:{uuid.uuid4()}"
    referral_task = {**referral_task, "focus": {"reference": request_url}, "basedOn": [ref(f"Task/{found.task_id}")]}
    return [
        {"fullUrl": request_url, "resource": request, "request": {"method": "POST", "url": "ServiceRequest"}},
        {
            "fullUrl": f"urn:uuid:{uuid.uuid4()}",
            "resource": referral_task,
            "request": {"method": "POST", "url": "Task"},
        },
    ]


def refusal_message(error: FhirError) -> str:
    """What the page says when the gate or the state refuses a change."""
    if isinstance(error, Forbidden):
        return "You cannot do this: " + error.message
    return error.message
