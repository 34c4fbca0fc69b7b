"""What MDG huddles do, as functions taking the caller's handle (every read and write checked and audited by the gate).

Who may do what (decision 0505): a member of the MDG (the Group's member list names their PractitionerRole) with
`huddle.attend` sees its case-finding list by name, its agendas and actions, adds people to an agenda, records and
closes actions; its coordinator (`caseload.manage`, and a member) also starts agendas, takes people off them, closes
meetings and publishes the case-finding list again. Anyone else is refused before anything is read about a person.
Every change names the version the form showed: a stale form is refused (409) and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from joinedup.access.handle import CallerHandle, SystemHandle
from joinedup.care.permissions import CASELOAD_MANAGE, HUDDLE_ATTEND
from joinedup.fhir.errors import Conflict, Forbidden, Gone, InvalidRequest, NotFound, PreconditionFailed
from joinedup.fhir.search_request import parse_search

from .model import (
    Action,
    Mdg,
    NewAction,
    action_task,
    action_token,
    agenda,
    agenda_entry,
    closed,
    group_identifier_token,
    list_kind_token,
    listed_patients,
    mdg_token,
)
from .publication import PURPOSE as PUBLICATION_PURPOSE
from .publication import Publication, publish_case_finding

__all__ = ["PUBLICATION_PURPOSE", "Publication", "publish_case_finding"]

Resource = dict[str, Any]
PAGE = 500
REFERRALS_ON_AN_AGENDA = 20  # the most recent open referrals to the neighbourhood's people an agenda starts with


@dataclass(frozen=True)
class ListRead:
    """A List as read, with the version a form must name to change it."""

    resource: Resource
    version: int

    @property
    def id(self) -> str:
        return str(self.resource["id"])

    @property
    def status(self) -> str:
        return str(self.resource.get("status") or "")

    @property
    def group_id(self) -> str:
        return str((self.resource.get("subject") or {}).get("reference", "")).partition("/")[2]

    @property
    def patient_ids(self) -> list[str]:
        return listed_patients(self.resource)


# --- who may ------------------------------------------------------------------------------------------------------
def require_attendance(caller: CallerHandle) -> None:
    if not (caller.may(HUDDLE_ATTEND) or caller.may(CASELOAD_MANAGE)):
        raise Forbidden(f"The role '{caller.context.role}' does not take part in multidisciplinary groups")


def my_groups(caller: CallerHandle) -> list[Mdg]:
    """The MDGs the caller is a member of."""
    require_attendance(caller)
    pairs = [("code", mdg_token()), ("member", caller.context.user), ("_count", str(PAGE))]
    found = [Mdg(g) for g in caller.search(parse_search("Group", pairs)).matches]
    return sorted((g for g in found if g.has_member(caller.context.user)), key=lambda g: g.name)


def group_for(caller: CallerHandle, group_id: str, coordinating: bool = False) -> Mdg:
    """The MDG, when the caller is one of its members (and, `coordinating`, may manage it)."""
    require_attendance(caller)
    if coordinating:
        caller.require(CASELOAD_MANAGE)
    try:
        group = caller.read("Group", group_id).content or {}
    except Gone:
        raise NotFound(f"Group/{group_id} is not known") from None
    codes = {c.get("code") for c in (group.get("code") or {}).get("coding") or []}
    if "mdg" not in codes:
        raise NotFound(f"Group/{group_id} is not a multidisciplinary group")
    mdg = Mdg(group)
    if not mdg.has_member(caller.context.user):
        raise Forbidden("You are not a member of this multidisciplinary group")
    return mdg


def _list(caller: CallerHandle, list_id: str) -> ListRead:
    try:
        found = caller.read("List", list_id)
    except Gone:
        raise NotFound(f"List/{list_id} is not known") from None
    return ListRead(found.content or {}, found.version_id)


def agenda_for(caller: CallerHandle, list_id: str, coordinating: bool = False) -> tuple[Mdg, ListRead]:
    """An agenda and its MDG, when the caller is a member (the gate decides first whether the List is seen at all)."""
    require_attendance(caller)
    read = _list(caller, list_id)
    codes = {c.get("code") for c in (read.resource.get("code") or {}).get("coding") or []}
    if "mdg-agenda" not in codes or not read.group_id:
        raise NotFound(f"List/{list_id} is not a huddle agenda")
    return group_for(caller, read.group_id, coordinating), read


# --- what an MDG sees ---------------------------------------------------------------------------------------------
def current_case_finding(caller: CallerHandle, mdg: Mdg) -> ListRead | None:
    pairs = [("subject", f"Group/{mdg.id}"), ("code", list_kind_token("case-finding")), ("status", "current"),
             ("_sort", "-date"), ("_count", "1")]  # fmt: skip
    page = caller.search(parse_search("List", pairs))
    if not page.found:
        return None
    return _list(caller, page.found[0].id)


def agendas(caller: CallerHandle, mdg: Mdg) -> list[ListRead]:
    pairs = [("subject", f"Group/{mdg.id}"), ("code", list_kind_token("mdg-agenda")), ("_sort", "-date"),
             ("_count", "50")]  # fmt: skip
    page = caller.search(parse_search("List", pairs))
    return [ListRead(r, 0) for r in page.matches]


def open_actions(caller: CallerHandle, mdg: Mdg) -> list[Action]:
    pairs = [("group-identifier", group_identifier_token(mdg.id)), ("code", action_token()),
             ("status", "requested,accepted,in-progress"), ("_count", str(PAGE))]  # fmt: skip
    found = [_action(caller, t) for t in caller.search(parse_search("Task", pairs)).matches]
    return sorted(found, key=lambda a: (a.due or "9999", a.id))


def actions_of_agenda(caller: CallerHandle, mdg: Mdg, agenda_id: str) -> list[Action]:
    pairs = [("group-identifier", group_identifier_token(mdg.id)), ("code", action_token()), ("_count", str(PAGE))]
    found = [_action(caller, t) for t in caller.search(parse_search("Task", pairs)).matches]
    return [a for a in found if a.agenda_id == agenda_id or a.is_open]


def _action(caller: CallerHandle, task: Resource) -> Action:
    version = int((task.get("meta") or {}).get("versionId") or 0)
    return Action(task, version)


def patients(caller: CallerHandle, patient_ids: Sequence[str]) -> dict[str, Resource]:
    """The Patient records among these the caller may see (the rest are not shown, nor said to exist)."""
    found: dict[str, Resource] = {}
    wanted = list(dict.fromkeys(patient_ids))
    for start in range(0, len(wanted), 100):
        chunk = wanted[start : start + 100]
        pairs = [("_id", ",".join(chunk)), ("_count", str(len(chunk)))]
        found.update({str(p["id"]): p for p in caller.search(parse_search("Patient", pairs)).matches})
    return found


# --- agendas ------------------------------------------------------------------------------------------------------
def _neighbourhood_referrals(caller: CallerHandle, mdg: Mdg) -> list[str]:
    """People of the neighbourhood's practices with an open referral the caller can see, most recent first."""
    if not mdg.practices:
        return []
    pairs = [("general-practitioner", ",".join(f"Organization/{p}" for p in mdg.practices)), ("_count", str(PAGE))]
    people = [str(p["id"]) for p in caller.search(parse_search("Patient", pairs)).matches]
    found: list[str] = []
    for start in range(0, len(people), 100):
        chunk = people[start : start + 100]
        pairs = [("subject", ",".join(f"Patient/{p}" for p in chunk)), ("status", "active"),
                 ("_sort", "-authored"), ("_count", str(PAGE))]  # fmt: skip
        for request in caller.search(parse_search("ServiceRequest", pairs)).matches:
            pid = str((request.get("subject") or {}).get("reference", "")).partition("/")[2]
            if pid and pid not in found:
                found.append(pid)
    return found[:REFERRALS_ON_AN_AGENDA]


@dataclass(frozen=True)
class NewAgenda:
    title: str
    meeting: date
    from_case_finding: bool = True
    from_referrals: bool = True


def start_agenda(caller: CallerHandle, group_id: str, new: NewAgenda, now: datetime | None = None) -> str:
    """A new agenda: the people with actions still open first, then the case-finding list, then open referrals."""
    mdg = group_for(caller, group_id, coordinating=True)
    if not new.title.strip():
        raise InvalidRequest("Give the meeting a title")
    moment = now or datetime.now(UTC)
    entries: list[Resource] = []
    seen: set[str] = set()

    def add(pids: Sequence[str], why: str) -> None:
        for pid in pids:
            if pid not in seen:
                seen.add(pid)
                entries.append(agenda_entry(pid, why, moment))

    add([a.patient_id for a in open_actions(caller, mdg) if a.patient_id], "action")
    if new.from_case_finding:
        listed = current_case_finding(caller, mdg)
        add(listed.patient_ids if listed else [], "case-finding")
    if new.from_referrals:
        add(_neighbourhood_referrals(caller, mdg), "referral")
    made = caller.create(agenda(mdg.id, new.title.strip(), new.meeting, entries))
    return made.written.id


def _changed_list(caller: CallerHandle, read: ListRead, version: int, change: Callable[[Resource], Resource]) -> None:
    if read.status != "current":
        raise Conflict("This meeting has been closed: its agenda can no longer change")
    if version != read.version:
        raise Conflict("The agenda has changed since this page was shown: look again before changing it")
    try:
        caller.update("List", read.id, change(dict(read.resource)), if_match=version)
    except PreconditionFailed:
        raise Conflict("The agenda has changed since this page was shown: look again before changing it") from None


def add_person(caller: CallerHandle, list_id: str, version: int, patient_ids: Sequence[str],
               now: datetime | None = None) -> None:  # fmt: skip
    """A member adds a person they can see (every record of theirs they found) to a current agenda."""
    _, read = agenda_for(caller, list_id)
    seen = [pid for pid in patients(caller, patient_ids)] if patient_ids else []
    if not seen:
        raise NotFound("There is no record you can see with this NHS number or identifier")
    new = [pid for pid in seen if pid not in read.patient_ids]
    if not new:
        raise Conflict("This person is already on the agenda")
    moment = now or datetime.now(UTC)
    entries = [agenda_entry(pid, "member", moment) for pid in new]
    _changed_list(caller, read, version, lambda r: {**r, "entry": [*(r.get("entry") or []), *entries]})


def remove_person(caller: CallerHandle, list_id: str, version: int, patient_id: str) -> None:
    """The coordinator takes a person off a current agenda."""
    _, read = agenda_for(caller, list_id, coordinating=True)
    if patient_id not in read.patient_ids:
        raise Conflict("This person is not on the agenda")

    def without(r: Resource) -> Resource:
        kept = [e for e in r.get("entry") or [] if (e.get("item") or {}).get("reference") != f"Patient/{patient_id}"]
        return {**r, "entry": kept}

    _changed_list(caller, read, version, without)


def close_meeting(caller: CallerHandle, list_id: str, version: int) -> None:
    """The meeting is over: its agenda is retired (its actions stay open until they are done)."""
    _, read = agenda_for(caller, list_id, coordinating=True)
    _changed_list(caller, read, version, lambda r: {**r, "status": "retired"})


# --- actions ------------------------------------------------------------------------------------------------------
OWNER_TYPES = ("PractitionerRole", "HealthcareService")


def record_action(caller: CallerHandle, list_id: str, patient_id: str, description: str, owner: str, due: date | None,
                  now: datetime | None = None) -> str:  # fmt: skip
    """An action agreed at the meeting, for a person on its agenda, owned by a person or a team, with a due date."""
    mdg, read = agenda_for(caller, list_id)
    if read.status != "current":
        raise Conflict("This meeting has been closed: record new actions at the next one")
    if patient_id not in read.patient_ids:
        raise InvalidRequest("This person is not on the agenda")
    if not description.strip():
        raise InvalidRequest("Say what is to be done")
    kind, _, owner_id = owner.partition("/")
    if kind not in OWNER_TYPES or not owner_id:
        raise InvalidRequest("Choose who will do it: a person or a team")
    try:
        caller.read(kind, owner_id)
    except (NotFound, Gone):
        raise InvalidRequest("Choose who will do it: a person or a team") from None
    moment = now or datetime.now(UTC)
    if due is None or due < moment.date():
        raise InvalidRequest("Give a due date that is today or later")
    new = NewAction(patient_id, description.strip(), owner, due, caller.context.user, mdg.id, read.id)
    return caller.create(action_task(new, moment)).written.id


def close_action(caller: CallerHandle, task_id: str, version: int, status: str, note: str = "",
                 now: datetime | None = None) -> None:  # fmt: skip
    """A member closes an open action of their MDG (completed or cancelled), naming the version they saw."""
    require_attendance(caller)
    try:
        found = caller.read("Task", task_id)
    except Gone:
        raise NotFound(f"Task/{task_id} is not known") from None
    task = found.content or {}
    codes = {c.get("code") for c in (task.get("code") or {}).get("coding") or []}
    group_id = str((task.get("groupIdentifier") or {}).get("value") or "")
    if "huddle-action" not in codes or not group_id:
        raise NotFound(f"Task/{task_id} is not a huddle action")
    group_for(caller, group_id)
    action = Action(task, found.version_id)
    if not action.is_open:
        raise Conflict("This action has already been closed")
    if version != found.version_id:
        raise Conflict("The action has changed since this page was shown: look again before closing it")
    if status not in ("completed", "cancelled"):
        raise InvalidRequest("An action is closed as done or cancelled")
    changed = closed(task, status, note.strip(), caller.context.user, now or datetime.now(UTC))
    try:
        caller.update("Task", task_id, changed, if_match=version)
    except PreconditionFailed:
        raise Conflict("The action has changed since this page was shown: look again before closing it") from None


def publish_now(caller: CallerHandle, system: SystemHandle, group_id: str,
                candidates: Callable[[str], Sequence[Any]]) -> Publication:  # fmt: skip
    """The coordinator asks for the MDG's list to be published again from the latest refresh (as the system)."""
    group_for(caller, group_id, coordinating=True)
    return publish_case_finding(system, candidates, group_id)
