"""A referral as FHIR holds it (decision 0500): a ServiceRequest (what is asked for, why, how urgently) and a Task
(`code = fulfill`, `focus` = the ServiceRequest) that says who holds it now and where it has got to.

- ServiceRequest: status active until the referral closes (completed; revoked when declined or cancelled),
  intent order, `priority` from the urgency, `subject` the Patient, `requester` the sender (PractitionerRole, or
  the Organization for a message from outside), `performer` the receiving service (HealthcareService),
  `code` what is asked for, `reasonCode` why, `note` anything else.
- Task: `status` the FHIR Task state, `businessStatus` the referral's step (vocabulary.referral_steps),
  `owner` the receiving service (HealthcareService) until someone is allocated or claims it, then their
  PractitionerRole; `requester` the sender; `for` the Patient; `restriction.period.end` when a decision is due
  (the urgency's clock); `executionPeriod.start` the first contact, `.end` the outcome; `statusReason` the decline
  reason; `output` the outcome; `note` the conversation between the services, each note with its author and time.

Only `fhir/`-level helpers here: no I/O.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from joinedup.care.vocabulary import vocabulary

Resource = dict[str, Any]


def instant(moment: datetime) -> str:
    """A FHIR instant in UTC, to the second."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_instant(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def ref(reference: str, display: str | None = None) -> dict[str, str]:
    found = {"reference": reference}
    if display:
        found["display"] = display
    return found


@dataclass(frozen=True)
class NewReferral:
    patient: str  # "Patient/<id>"
    service: str  # "HealthcareService/<id>"
    what: str  # what is asked for, in words
    reason: str  # why
    urgency: str  # a vocabulary urgency code
    requester: str | None  # "PractitionerRole/<id>" (or "Organization/<id>" for a message from outside)
    requester_display: str | None = None
    what_code: dict[str, Any] | None = None  # a CodeableConcept, when the sender chose a coded service type
    note: str | None = None
    identifiers: tuple[dict[str, str], ...] = ()  # e.g. a BaRS message's ServiceRequest identifier


def step_concept(step: str) -> dict[str, Any]:
    code = vocabulary().get("referral_steps", step)
    concept = code.concept()
    if code.extra.get("bser"):
        concept["coding"].append({"system": vocabulary().system("bser_status"), "code": code.extra["bser"]})
    return concept


def task_status_of(step: str) -> str:
    return str(vocabulary().get("referral_steps", step).extra["task_status"])


def referral_resources(new: NewReferral, now: datetime) -> tuple[Resource, Resource]:
    """The ServiceRequest and its Task, the Task's focus a `urn:uuid:` reference to the ServiceRequest (so that both
    go in one transaction Bundle; the store rewrites the reference)."""
    words = vocabulary()
    urgency = words.get("urgencies", new.urgency)
    authored = instant(now)
    request: Resource = {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "priority": urgency.extra["priority"],
        "code": new.what_code or {"text": new.what},
        "subject": ref(new.patient),
        "authoredOn": authored,
        "performer": [ref(new.service)],
        "reasonCode": [{"text": new.reason}],
    }
    if new.what_code is not None:
        request["code"] = {**new.what_code, "text": new.what}
    if new.requester:
        request["requester"] = ref(new.requester, new.requester_display)
    if new.identifiers:
        request["identifier"] = [dict(i) for i in new.identifiers]
    if new.note:
        request["note"] = [{"text": new.note, "time": authored}]
    task: Resource = {
        "resourceType": "Task",
        "status": task_status_of("sent"),
        "businessStatus": step_concept("sent"),
        "intent": "order",
        "priority": urgency.extra["priority"],
        "code": {"coding": [{"system": words.system("task_code"), "code": "fulfill"}], "text": "Referral"},
        "description": new.what,
        "for": ref(new.patient),
        "authoredOn": authored,
        "lastModified": authored,
        "owner": ref(new.service),
        "restriction": {"period": {"end": instant(now + words.clock(new.urgency))}},
    }
    if new.requester:
        task["requester"] = ref(new.requester, new.requester_display)
    return request, task


def transaction_of(request: Resource, task: Resource) -> Resource:
    """Both resources as one transaction Bundle (the Task's focus pointing at the request's fullUrl)."""
    request_url = f"urn:uuid:{uuid.uuid4()}"
    task = {**task, "focus": {"reference": request_url}}
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": request_url, "resource": request, "request": {"method": "POST", "url": "ServiceRequest"}},
            {"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": task, "request": {"method": "POST", "url": "Task"}},
        ],
    }


@dataclass(frozen=True)
class Referral:
    """A referral read back: the Task and its ServiceRequest, with what the pages and services ask of them."""

    task: Resource
    request: Resource

    @property
    def task_id(self) -> str:
        return str(self.task["id"])

    @property
    def request_id(self) -> str:
        return str(self.request["id"])

    @property
    def patient(self) -> str:
        return str((self.task.get("for") or {}).get("reference") or "")

    @property
    def owner(self) -> str:
        return str((self.task.get("owner") or {}).get("reference") or "")

    @property
    def service(self) -> str:
        performers = self.request.get("performer") or [{}]
        return str(performers[0].get("reference") or "")

    @property
    def sender(self) -> str:
        return str((self.request.get("requester") or {}).get("reference") or "")

    @property
    def step(self) -> str:
        for coding in (self.task.get("businessStatus") or {}).get("coding") or []:
            if coding.get("system") == vocabulary().system("referral_step"):
                return str(coding.get("code"))
        return "sent"

    @property
    def status(self) -> str:
        return str(self.task.get("status"))

    @property
    def urgency(self) -> str:
        return vocabulary().urgency_of_priority(self.request.get("priority"))

    @property
    def due(self) -> datetime | None:
        return parse_instant(((self.task.get("restriction") or {}).get("period") or {}).get("end"))

    @property
    def allocated(self) -> bool:
        return self.owner.startswith("PractitionerRole/")

    @property
    def is_open(self) -> bool:
        return self.status not in {"completed", "rejected", "cancelled", "failed", "entered-in-error"}

    @property
    def version(self) -> int:
        """The Task's version: what a step names so that a stale form changes nothing (If-Match)."""
        return int((self.task.get("meta") or {}).get("versionId") or 0)

    @property
    def overdue(self) -> bool:
        """Still waiting for a decision (sent, redirected, asked for or given information) after its clock ran out."""
        due = self.due
        waiting = self.step in {"sent", "redirected", "information-requested", "information-given"}
        return waiting and due is not None and due < datetime.now(UTC)

    @property
    def what(self) -> str:
        return str((self.request.get("code") or {}).get("text") or self.task.get("description") or "")

    @property
    def why(self) -> str:
        return "; ".join(str(r.get("text") or "") for r in self.request.get("reasonCode") or [] if r.get("text"))

    @property
    def authored(self) -> datetime | None:
        return parse_instant(self.task.get("authoredOn"))

    @property
    def last_modified(self) -> datetime | None:
        return parse_instant(self.task.get("lastModified"))

    @property
    def notes(self) -> list[Resource]:
        return list(self.task.get("note") or [])

    @property
    def outcome(self) -> str | None:
        for output in self.task.get("output") or []:
            if (output.get("type") or {}).get("text") == "outcome":
                return str(output.get("valueString") or "")
        return None

    @property
    def first_contact(self) -> datetime | None:
        return parse_instant((self.task.get("executionPeriod") or {}).get("start"))

    @property
    def decline_reason(self) -> str | None:
        reasons = self.task.get("statusReason")
        return str(reasons.get("text") or "") if reasons else None


def note(author: str, text: str, now: datetime) -> Resource:
    """One turn of the conversation between the services: who wrote it, when, what."""
    return {"authorReference": {"reference": author}, "time": instant(now), "text": text}
