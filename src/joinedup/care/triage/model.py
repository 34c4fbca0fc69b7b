"""A contact at the single point of access as FHIR holds it (care contract section 3, decision 0503).

- The contact is a Communication: `category[0]` how it came (contact_routes), `category[1]` who it came from
  (contact_from), `medium` the v3 ParticipationMode of the route, `subject` the person once identified (absent
  before), `sender` a reference when known (else `sender.display`), `sent`, `payload` what was said, `recipient`
  the single point of access (HealthcareService).
- The triage work item is a Task: `code` work_kinds "triage", `focus` the Communication, `for` the person once
  identified, `owner` the single point of access, `status` requested until decided (then completed),
  `priority` from the urgency, `authoredOn` the contact's time, `restriction.period.end` when a decision is due
  (the urgency's clock), `businessStatus` the triage outcome, `statusReason` a decline's reason, `output` the
  referral when referred on, `executionPeriod.end` the decision's time.

Only shapes here: no I/O.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from joinedup.care.referrals.model import instant, parse_instant, ref
from joinedup.care.vocabulary import vocabulary

Resource = dict[str, Any]
PARTICIPATION_MODE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
SPA_SERVICE_TYPE = ("http://snomed.info/sct", "310023007")  # "Single point of access service" on the HealthcareService
SPA_TEAM = "spa-team"  # HealthcareService.characteristic text of one of the single point of access's own teams
OPEN = "requested"
DECIDED = "completed"


@dataclass(frozen=True)
class NewContact:
    spa: str  # "HealthcareService/<id>": the single point of access the contact arrived at
    route: str  # contact_routes code
    came_from: str  # contact_from code
    urgency: str  # urgencies code
    what: str  # what was said, in the caller's words
    patient: str | None = None  # "Patient/<id>" when identified; None while not yet identified
    sender: str | None = None  # "PractitionerRole/…" | "Patient/…" | "RelatedPerson/…" | "Device/…"
    sender_display: str | None = None  # who called, in words, when there is no reference
    taken_by: str | None = None  # the PractitionerRole who took it


def communication_of(new: NewContact, now: datetime) -> Resource:
    words = vocabulary()
    route = words.get("contact_routes", new.route)
    came_from = words.get("contact_from", new.came_from)
    sent = instant(now)
    contact: Resource = {
        "resourceType": "Communication",
        "status": "completed",
        "category": [{"coding": [route.coding()], "text": route.display},
                     {"coding": [came_from.coding()], "text": came_from.display}],
        "medium": [{"coding": [{"system": PARTICIPATION_MODE, "code": route.extra["medium"]}]}],
        "sent": sent,
        "received": sent,
        "recipient": [ref(new.spa)],
        "payload": [{"contentString": new.what}],
    }  # fmt: skip
    if new.patient:
        contact["subject"] = ref(new.patient)
    if new.sender or new.sender_display:
        contact["sender"] = {k: v for k, v in (("reference", new.sender), ("display", new.sender_display)) if v}
    return contact


def triage_task_of(new: NewContact, now: datetime) -> Resource:
    words = vocabulary()
    urgency = words.get("urgencies", new.urgency)
    authored = instant(now)
    task: Resource = {
        "resourceType": "Task",
        "status": OPEN,
        "intent": "order",
        "priority": urgency.extra["priority"],
        "code": words.get("work_kinds", "triage").concept(),
        "description": "Triage a contact",
        "authoredOn": authored,
        "lastModified": authored,
        "owner": ref(new.spa),
        "restriction": {"period": {"end": instant(now + words.clock(new.urgency))}},
    }
    if new.patient:
        task["for"] = ref(new.patient)
    if new.taken_by:
        task["requester"] = ref(new.taken_by)
    return task


def contact_bundle(new: NewContact, now: datetime) -> Resource:
    """The Communication and its triage Task as one transaction (the Task's focus the Communication's fullUrl)."""
    contact_url = f"urn:uuid:{uuid.uuid4()}"
    task = {**triage_task_of(new, now), "focus": {"reference": contact_url}}
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": contact_url, "resource": communication_of(new, now),
             "request": {"method": "POST", "url": "Communication"}},
            {"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": task, "request": {"method": "POST", "url": "Task"}},
        ],
    }  # fmt: skip


def update_entry(resource: Resource, version: str | None = None) -> Resource:
    """A transaction entry replacing `resource` (If-Match its version when given: a stale form changes nothing)."""
    request: Resource = {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}
    if version:
        request["ifMatch"] = f'W/"{version}"'
    return {"fullUrl": f"{resource['resourceType']}/{resource['id']}", "resource": resource, "request": request}


def _code_in(concept: Resource | None, system_name: str) -> str | None:
    system = vocabulary().system(system_name)
    for coding in (concept or {}).get("coding") or []:
        if coding.get("system") == system:
            return str(coding.get("code"))
    return None


@dataclass(frozen=True)
class Contact:
    """A contact read back: its triage Task and the Communication it is about."""

    task: Resource
    communication: Resource

    @property
    def task_id(self) -> str:
        return str(self.task["id"])

    @property
    def version(self) -> str:
        return str((self.task.get("meta") or {}).get("versionId") or "")

    @property
    def communication_version(self) -> str:
        return str((self.communication.get("meta") or {}).get("versionId") or "")

    @property
    def patient(self) -> str | None:
        found = (self.task.get("for") or {}).get("reference") or (self.communication.get("subject") or {}).get(
            "reference"
        )
        return str(found) if found else None

    @property
    def patient_id(self) -> str | None:
        return self.patient.split("/", 1)[1] if self.patient else None

    @property
    def spa(self) -> str:
        return str((self.task.get("owner") or {}).get("reference") or "")

    @property
    def route(self) -> str:
        categories = self.communication.get("category") or []
        return _code_in(categories[0] if categories else None, "contact_route") or "phone"

    @property
    def came_from(self) -> str:
        categories = self.communication.get("category") or []
        return _code_in(categories[1] if len(categories) > 1 else None, "contact_from") or "professional"

    @property
    def what(self) -> str:
        return " ".join(str(p.get("contentString") or "") for p in self.communication.get("payload") or []).strip()

    @property
    def sender(self) -> str:
        sender = self.communication.get("sender") or {}
        return str(sender.get("display") or sender.get("reference") or "Not recorded")

    @property
    def urgency(self) -> str:
        return vocabulary().urgency_of_priority(self.task.get("priority"))

    @property
    def received(self) -> datetime | None:
        return parse_instant(self.task.get("authoredOn"))

    @property
    def due(self) -> datetime | None:
        return parse_instant(((self.task.get("restriction") or {}).get("period") or {}).get("end"))

    @property
    def decided(self) -> datetime | None:
        return parse_instant((self.task.get("executionPeriod") or {}).get("end"))

    @property
    def is_open(self) -> bool:
        return self.task.get("status") == OPEN

    @property
    def outcome(self) -> str | None:
        return _code_in(self.task.get("businessStatus"), "triage_outcome")

    @property
    def referral(self) -> str | None:
        for output in self.task.get("output") or []:
            found = (output.get("valueReference") or {}).get("reference")
            if found:
                return str(found)
        return None

    def overdue(self, now: datetime) -> bool:
        return self.is_open and self.due is not None and self.due < now

    def waiting(self, now: datetime) -> timedelta:
        return (self.decided or now) - (self.received or now)


def flag_of(patient: str, what: str, review: datetime, author: str | None, now: datetime) -> Resource:
    """The vulnerable person protocol's Flag: active until closed, its review date as `period.end`."""
    flag: Resource = {
        "resourceType": "Flag",
        "status": "active",
        "category": [vocabulary().get("flag_kinds", "vulnerable-person").concept()],
        "code": {"text": what},
        "subject": ref(patient),
        "period": {"start": instant(now), "end": instant(review)},
    }
    if author:
        flag["author"] = ref(author)
    return flag


def is_vulnerable_person_flag(flag: Resource) -> bool:
    return any(_code_in(c, "flag_kind") == "vulnerable-person" for c in flag.get("category") or [])
