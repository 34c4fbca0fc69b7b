"""What the referral pages show, read through the caller's handle: names for references, a referral's timeline (every
version of its Task is one step: what it became, when, the note written with it and by whom), the rows of a list.
No HTTP here: pages.py renders these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from joinedup.access.handle import CallerHandle
from joinedup.care.permissions import REFERRAL_RECEIVE, REFERRAL_SEND
from joinedup.care.vocabulary import vocabulary
from joinedup.fhir.search_request import parse_search

from . import parties
from .model import Referral, parse_instant
from .queries import for_patient
from .steps import step_label


def when_text(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return f"{moment.day} {moment:%B %Y} at {moment:%H:%M}"


def day_text(moment: datetime | None) -> str:
    return f"{moment.day} {moment:%B %Y}" if moment else ""


@dataclass
class Names:
    """Display names for references, read once per page through the caller's handle."""

    caller: CallerHandle
    known: dict[str, str] = field(default_factory=dict)

    def __call__(self, reference: str) -> str:
        return parties.display_name(self.caller, reference, self.known) if reference else ""

    def patients(self, referrals: list[Referral]) -> None:
        """The people's names in one search (those the caller may see; others stay 'a person')."""
        ids = sorted({r.patient.split("/", 1)[1] for r in referrals if r.patient.startswith("Patient/")})
        for start in range(0, len(ids), 100):
            chunk = ids[start : start + 100]
            page = self.caller.search(parse_search("Patient", [("_id", ",".join(chunk)), ("_count", str(len(chunk)))]))
            for patient in page.matches:
                self.known[f"Patient/{patient['id']}"] = parties.display_name_of_patient(patient)
        for reference in (r.patient for r in referrals):
            self.known.setdefault(reference, "A person whose record you cannot see")


@dataclass(frozen=True)
class Moment:
    """One step on a referral's timeline."""

    when: str
    step: str
    detail: str  # what changed, in words (to whom it went, why it was declined, the outcome)
    author: str  # who wrote the note ("" when the step carried none)
    text: str  # the note


def timeline(caller: CallerHandle, referral: Referral, names: Names) -> list[Moment]:
    """Every version of the Task, oldest first; a step's note is the one that version added."""
    versions = caller.history("Task", referral.task_id, None, 1000, 0).versions
    tasks = sorted((v.content for v in versions if v.content), key=lambda t: int(t["meta"]["versionId"]))
    moments: list[Moment] = []
    seen_notes = 0
    previous: dict[str, Any] = {}
    for task in tasks:
        view = Referral(task, referral.request)
        notes = task.get("note") or []
        added = notes[seen_notes:]
        seen_notes = len(notes)
        author = names(str((added[-1].get("authorReference") or {}).get("reference") or "")) if added else ""
        text = "\n\n".join(str(n.get("text") or "") for n in added)
        moments.append(Moment(when_text(view.last_modified), step_label(view.step), _detail(view, previous, names),
                              author, text))  # fmt: skip
        previous = task
    return moments


def _detail(view: Referral, previous: dict[str, Any], names: Names) -> str:
    step = view.step
    if not previous:
        return f"Sent by {names(view.sender)} to {names(view.owner)}" if view.sender else f"Sent to {names(view.owner)}"
    if step == "declined" and view.decline_reason:
        return f"Reason: {view.decline_reason}"
    if step == "redirected":
        return f"Now with {names(view.owner)}"
    if step == "allocated":
        return f"Allocated to {names(view.owner)}"
    if step == "first-contact":
        return f"First contact: {when_text(view.first_contact)}"
    if step == "completed" and view.outcome:
        return f"Outcome: {view.outcome}"
    return ""


@dataclass(frozen=True)
class Row:
    referral: Referral
    person: str
    service: str
    owner: str
    step: str
    urgency: str
    due: str
    changed: str
    overdue: bool


def rows(referrals: list[Referral], names: Names) -> list[Row]:
    names.patients(referrals)
    urgencies = vocabulary().table("urgencies")
    found = []
    for r in referrals:
        urgency = urgencies.get(r.urgency)
        owner = names(r.owner) if r.allocated else ""
        found.append(Row(r, names(r.patient), names(r.service), owner, step_label(r.step),
                         urgency.display if urgency else r.urgency, day_text(r.due), when_text(r.last_modified),
                         r.overdue))  # fmt: skip
    return found


def services_to_refer_to(caller: CallerHandle) -> list[tuple[str, str]]:
    """The directory's active HealthcareServices: (reference, 'Team name – Organisation'), by name."""
    found: list[tuple[str, str]] = []
    offset = 0
    while True:
        page = caller.search(parse_search("HealthcareService", [("active", "true"), ("_count", "500"),
                                                                ("_offset", str(offset))]))  # fmt: skip
        for service in page.matches:
            found.append((f"HealthcareService/{service['id']}", str(service.get("name") or service["id"])))
        if not page.has_next:
            break
        offset += 500
    return sorted(found, key=lambda pair: pair[1].lower())


def team_members(caller: CallerHandle, team: str, names: Names) -> list[tuple[str, str]]:
    """The active members of a team (PractitionerRoles naming it): (reference, name)."""
    page = caller.search(parse_search("PractitionerRole", [("service", team), ("active", "true"), ("_count", "500")]))
    members = [(f"PractitionerRole/{r['id']}", names(f"PractitionerRole/{r['id']}")) for r in page.matches]
    return sorted(members, key=lambda pair: pair[1])


def parse_local(day: str, time: str) -> datetime | None:
    """A date (YYYY-MM-DD) and a time (HH:MM) typed on a form, as UTC (the place's clock; good enough for a
    first contact recorded on the day)."""
    return parse_instant(f"{day.strip()}T{time.strip() or '00:00'}:00Z") if day.strip() else None


def record_section(caller: CallerHandle, patient_id: str) -> dict[str, Any]:
    """What the record page's referrals section and its "Refer" button need (web/routes/record.py calls this)."""
    may_refer = caller.may(REFERRAL_SEND)
    if not (may_refer or caller.may(REFERRAL_RECEIVE)):
        return {"may_refer": False, "referral_rows": []}
    return {"may_refer": may_refer, "referral_rows": rows(for_patient(caller, patient_id), Names(caller))}
