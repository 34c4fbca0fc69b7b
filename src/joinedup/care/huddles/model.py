"""A multidisciplinary group (MDG) and its work as FHIR holds them (care contract section 5, decision 0505).

- The MDG: a Group of staff (type practitioner, actual, code group_kinds "mdg"), `managingEntity` the coordinator's
  Organization, a characteristic naming its neighbourhood and one per GP practice, members PractitionerRoles.
- The case-finding list: a List (status current, mode snapshot, code list_kinds "case-finding", subject the Group),
  entries Patient references only. Older lists are retired.
- An agenda: a List (status current until the meeting is closed, then retired; mode working; code "mdg-agenda"),
  entries Patient references with a flag saying why the person is on it.
- A huddle action: a Task (code work_kinds "huddle-action") for the person, owned by a PractitionerRole or a team
  (HealthcareService), with a due date, the MDG as its groupIdentifier and the agenda it was agreed at as an input.

Only `fhir/`-level helpers here: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from joinedup.care.referrals.model import instant, ref
from joinedup.care.vocabulary import vocabulary

Resource = dict[str, Any]
NEIGHBOURHOOD = "neighbourhood"
PRACTICE = "practice"
WHY = ("case-finding", "referral", "member", "action")  # why a person is on an agenda (entry.flag.text)
WHY_SHOWN = {
    "case-finding": "Case-finding list",
    "referral": "Open referral",
    "member": "Added by a member",
    "action": "Open action from an earlier meeting",
}
OPEN_ACTION = ("requested", "accepted", "in-progress")
CLOSING = ("completed", "cancelled")


def group_kind() -> dict[str, Any]:
    return vocabulary().get("group_kinds", "mdg").concept()


def list_kind(code: str) -> dict[str, Any]:
    return vocabulary().get("list_kinds", code).concept()


def list_kind_token(code: str) -> str:
    return f"{vocabulary().system('list_kind')}|{code}"


def mdg_token() -> str:
    return f"{vocabulary().system('group_kind')}|mdg"


def action_token() -> str:
    return f"{vocabulary().system('work_kind')}|huddle-action"


def group_identifier_token(group_id: str) -> str:
    return f"{vocabulary().system('group_kind')}|{group_id}"


def mdg_group(
    group_id: str,
    name: str,
    neighbourhood: str,
    practices: Sequence[str],
    members: Sequence[str],
    managing_organisation: str,
) -> Resource:
    """The MDG Group. `practices` are Organization ids, `members` PractitionerRole ids (the coordinator included)."""
    characteristics: list[Resource] = [
        {"code": {"text": NEIGHBOURHOOD}, "valueCodeableConcept": {"text": neighbourhood}, "exclude": False}
    ]
    characteristics += [
        {"code": {"text": PRACTICE}, "valueReference": ref(f"Organization/{p}"), "exclude": False} for p in practices
    ]
    return {
        "resourceType": "Group",
        "id": group_id,
        "type": "practitioner",
        "actual": True,
        "code": group_kind(),
        "name": name,
        "managingEntity": ref(managing_organisation),
        "characteristic": characteristics,
        "member": [{"entity": ref(f"PractitionerRole/{m}")} for m in members],
    }


@dataclass(frozen=True)
class Mdg:
    """A Group read back as an MDG."""

    group: Resource

    @property
    def id(self) -> str:
        return str(self.group["id"])

    @property
    def name(self) -> str:
        return str(self.group.get("name") or "Multidisciplinary group")

    @property
    def neighbourhood(self) -> str:
        for c in self.group.get("characteristic") or []:
            if (c.get("code") or {}).get("text") == NEIGHBOURHOOD:
                return str((c.get("valueCodeableConcept") or {}).get("text") or "")
        return ""

    @property
    def neighbourhood_key(self) -> str:
        """The neighbourhood as population health keys it (the postcode district): the characteristic's code when
        it has one, else its text (a name shown on the pages may differ from the key)."""
        for c in self.group.get("characteristic") or []:
            if (c.get("code") or {}).get("text") == NEIGHBOURHOOD:
                concept = c.get("valueCodeableConcept") or {}
                codes = [str(x["code"]) for x in concept.get("coding") or [] if x.get("code")]
                return codes[0] if codes else str(concept.get("text") or "")
        return ""

    @property
    def practices(self) -> list[str]:
        """Organization ids of the neighbourhood's GP practices."""
        found = []
        for c in self.group.get("characteristic") or []:
            if (c.get("code") or {}).get("text") == PRACTICE:
                found.append(str((c.get("valueReference") or {}).get("reference", "")).partition("/")[2])
        return [p for p in found if p]

    @property
    def members(self) -> list[str]:
        """References ('PractitionerRole/<id>') of the members whose membership has not ended (inactive: gone)."""
        return [
            str((m.get("entity") or {}).get("reference", ""))
            for m in self.group.get("member") or []
            if not m.get("inactive") and (m.get("entity") or {}).get("reference")
        ]

    def has_member(self, user: str) -> bool:
        return user in self.members


def case_finding_list(group_id: str, patient_ids: Iterable[str], when: datetime) -> Resource:
    """A neighbourhood's case-finding list for direct care: references only, no names (the gate shows names)."""
    return {
        "resourceType": "List",
        "status": "current",
        "mode": "snapshot",
        "title": "Case-finding list",
        "code": list_kind("case-finding"),
        "subject": ref(f"Group/{group_id}"),
        "date": instant(when),
        "entry": [{"item": ref(f"Patient/{pid}")} for pid in patient_ids],
    }


def listed_patients(resource: Resource) -> list[str]:
    """The Patient ids a List's entries name, in order, each once (removed entries left out)."""
    found: list[str] = []
    for entry in resource.get("entry") or []:
        kind, _, pid = str((entry.get("item") or {}).get("reference", "")).partition("/")
        if kind == "Patient" and pid and not entry.get("deleted") and pid not in found:
            found.append(pid)
    return found


def agenda_entry(patient_id: str, why: str, when: datetime) -> Resource:
    if why not in WHY:
        raise ValueError(f"'{why}' is not a reason a person is on an agenda")
    return {"item": ref(f"Patient/{patient_id}"), "flag": {"text": why}, "date": instant(when)}


def agenda(group_id: str, title: str, meeting: date, entries: list[Resource]) -> Resource:
    return {
        "resourceType": "List",
        "status": "current",
        "mode": "working",
        "title": title,
        "code": list_kind("mdg-agenda"),
        "subject": ref(f"Group/{group_id}"),
        "date": meeting.isoformat(),
        "entry": entries,
    }


def why_listed(resource: Resource) -> dict[str, list[str]]:
    """Patient id -> why they are on the agenda (one or more reasons)."""
    found: dict[str, list[str]] = {}
    for entry in resource.get("entry") or []:
        kind, _, pid = str((entry.get("item") or {}).get("reference", "")).partition("/")
        if kind == "Patient" and pid and not entry.get("deleted"):
            reason = str((entry.get("flag") or {}).get("text") or "member")
            found.setdefault(pid, [])
            if reason not in found[pid]:
                found[pid].append(reason)
    return found


@dataclass(frozen=True)
class NewAction:
    patient_id: str
    description: str
    owner: str  # "PractitionerRole/<id>" or "HealthcareService/<id>"
    due: date
    requester: str  # the coordinator's (or member's) PractitionerRole reference
    group_id: str
    agenda_id: str


def action_task(new: NewAction, now: datetime) -> Resource:
    return {
        "resourceType": "Task",
        "status": "requested",
        "intent": "order",
        "code": vocabulary().get("work_kinds", "huddle-action").concept(),
        "description": new.description,
        "for": ref(f"Patient/{new.patient_id}"),
        "owner": ref(new.owner),
        "requester": ref(new.requester),
        "authoredOn": instant(now),
        "lastModified": instant(now),
        "restriction": {"period": {"end": new.due.isoformat()}},
        "groupIdentifier": {"system": vocabulary().system("group_kind"), "value": new.group_id},
        "input": [{"type": {"text": "agenda"}, "valueReference": ref(f"List/{new.agenda_id}")}],
    }


@dataclass(frozen=True)
class Action:
    """A huddle action read back."""

    task: Resource
    version: int

    @property
    def id(self) -> str:
        return str(self.task["id"])

    @property
    def patient_id(self) -> str:
        return str((self.task.get("for") or {}).get("reference", "")).partition("/")[2]

    @property
    def owner(self) -> str:
        return str((self.task.get("owner") or {}).get("reference", ""))

    @property
    def due(self) -> str:
        return str(((self.task.get("restriction") or {}).get("period") or {}).get("end") or "")

    @property
    def status(self) -> str:
        return str(self.task.get("status") or "")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ACTION

    @property
    def description(self) -> str:
        return str(self.task.get("description") or "")

    @property
    def agenda_id(self) -> str:
        for item in self.task.get("input") or []:
            if (item.get("type") or {}).get("text") == "agenda":
                return str((item.get("valueReference") or {}).get("reference", "")).partition("/")[2]
        return ""


def closed(task: Resource, status: str, note: str, author: str, now: datetime) -> Resource:
    """The action closed (completed or cancelled), with who closed it and why as a note."""
    if status not in CLOSING:
        raise ValueError(f"An action is closed as completed or cancelled, not '{status}'")
    changed = {**task, "status": status, "lastModified": instant(now)}
    changed["executionPeriod"] = {**(task.get("executionPeriod") or {}), "end": instant(now)}
    if note:
        changed["note"] = [*(task.get("note") or []), {"authorReference": ref(author), "time": instant(now),
                                                      "text": note}]  # fmt: skip
    return changed
