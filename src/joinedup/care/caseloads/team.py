"""A team manager's view of their team(s) and the one change they make here: moving a person (an episode's
careManager) or a task (its owner) from one worker to another of the same team (decision 0504).

A team is a HealthcareService; its workers are the PractitionerRoles that name it (`healthcareService`). The
manager's teams are the ones their own PractitionerRole names, or their organisation's when it names none. An
episode belongs to the team of its careManager; an episode with none is the unallocated caseload of its managing
organisation, which the manager may allocate to a worker of a team that organisation provides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from joinedup.access.handle import CallerHandle
from joinedup.care.permissions import CASELOAD_ALLOCATE
from joinedup.fhir.errors import Conflict, Forbidden, InvalidRequest, PreconditionFailed
from joinedup.fhir.search_request import parse_search

from .model import OPEN_EPISODE, OPEN_TASK, Resource, WorkItem, WorkList, episode_item, ref_of, task_item
from .people import patients_included
from .service import Me, listed, version_of

PAGE = 200
MAX_PAGES = 10  # a team's open work, read a page at a time: at most this many pages of each kind


def _name(names: list[Resource] | None) -> str:
    if not names:
        return "Name not recorded"
    chosen = names[0]
    if chosen.get("text"):
        return str(chosen["text"])
    return " ".join(str(p) for p in [*chosen.get("given", []), chosen.get("family", "")] if p) or "Name not recorded"


@dataclass(frozen=True)
class TeamMember:
    role: str  # 'PractitionerRole/…'
    practitioner: str | None  # 'Practitioner/…'
    name: str
    team: str  # 'HealthcareService/…'

    @property
    def role_id(self) -> str:
        return self.role.split("/", 1)[1]


@dataclass
class WorkerLoad:
    member: TeamMember
    episodes: int = 0
    tasks: int = 0
    overdue: int = 0


@dataclass
class Team:
    services: dict[str, Resource]  # 'HealthcareService/…' → the team
    members: list[TeamMember]

    @property
    def organisations(self) -> set[str]:
        return {r for s in self.services.values() if (r := ref_of(s.get("providedBy")))}

    def member_of(self, holder: str | None) -> TeamMember | None:
        return next((m for m in self.members if holder in (m.role, m.practitioner)), None) if holder else None


@dataclass
class TeamView:
    team: Team
    loads: list[WorkerLoad]
    people: WorkList  # the people the team's workers hold, one row each
    unallocated: WorkList  # the organisations' episodes with no careManager
    names: dict[str, str] = field(default_factory=dict)  # holder reference → the worker's name


def team_of(caller: CallerHandle, who: Me) -> Team:
    services: dict[str, Resource] = {}
    ids = [t.split("/", 1)[1] for t in who.teams]
    if ids:
        found = caller.search(parse_search("HealthcareService", [("_id", ",".join(ids)), ("_count", "100")]))
        services = {f"HealthcareService/{s['id']}": s for s in found.matches}
    if not services:
        return Team({}, [])
    page = caller.search(parse_search("PractitionerRole", [
        ("service", ",".join(services)), ("active", "true"), ("_count", "1000"),
        ("_include", "PractitionerRole:practitioner")]))  # fmt: skip
    people = {f"{r['resourceType']}/{r['id']}": r for r in page.included}
    members = []
    for role in page.matches:
        practitioner = ref_of(role.get("practitioner"))
        team = next((r for s in role.get("healthcareService") or [] if (r := ref_of(s)) in services), "")
        name = _name((people.get(practitioner or "") or {}).get("name"))
        members.append(TeamMember(f"PractitionerRole/{role['id']}", practitioner, name, team))
    members.sort(key=lambda m: (m.name, m.role))
    return Team(services, members)


def _all(
    caller: CallerHandle, resource_type: str, pairs: list[tuple[str, str]]
) -> tuple[list[Resource], list[Resource], bool]:
    """Every page of a search (up to MAX_PAGES): a team's load must count all its work, not the first page."""
    found: list[Resource] = []
    included: list[Resource] = []
    for number in range(MAX_PAGES):
        page = caller.search(parse_search(resource_type, [*pairs, ("_count", str(PAGE)),
                                                          ("_offset", str(number * PAGE))]))  # fmt: skip
        found.extend(page.matches)
        included.extend(page.included)
        if not page.has_next:
            return found, included, False
    return found, included, True


def team_view(caller: CallerHandle, who: Me, now: datetime) -> TeamView:
    team = team_of(caller, who)
    holders = [r for m in team.members for r in (m.role, m.practitioner) if r]
    items: list[WorkItem] = []
    patients: dict[str, Resource] = {}
    more = False
    if holders:
        episodes, included, more_episodes = _all(caller, "EpisodeOfCare", [
            ("care-manager", ",".join(holders)), ("status", ",".join(OPEN_EPISODE)),
            ("_include", "EpisodeOfCare:patient")])  # fmt: skip
        tasks, task_included, more_tasks = _all(caller, "Task", [
            ("owner", ",".join(holders)), ("status", ",".join(OPEN_TASK)), ("_include", "Task:patient")])  # fmt: skip
        items = [episode_item(e, version_of(e)) for e in episodes] + [task_item(t, version_of(t), now) for t in tasks]
        patients = {**patients_included(included), **patients_included(task_included)}
        more = more_episodes or more_tasks
    loads = {m.role: WorkerLoad(m) for m in team.members}
    for item in items:
        member = team.member_of(item.holder)
        if member is None:
            continue
        load = loads[member.role]
        if item.resource_type == "EpisodeOfCare":
            load.episodes += 1
        else:
            load.tasks += 1
            load.overdue += item.overdue
    unallocated = WorkList([])
    if team.organisations:
        found, included, more_unallocated = _all(caller, "EpisodeOfCare", [
            ("organization", ",".join(sorted(team.organisations))), ("care-manager:missing", "true"),
            ("status", ",".join(OPEN_EPISODE)), ("_include", "EpisodeOfCare:patient")])  # fmt: skip
        unallocated = listed(
            caller, [episode_item(e, version_of(e)) for e in found], patients_included(included), more_unallocated
        )
    names = {r: m.name for m in team.members for r in (m.role, m.practitioner) if r}
    return TeamView(team, list(loads.values()), listed(caller, items, patients, more), unallocated, names)


# --- moving work between workers -------------------------------------------------------------------------------
MOVABLE = ("EpisodeOfCare", "Task")


def move(caller: CallerHandle, who: Me, resource_type: str, resource_id: str, version: int, to_role: str,
         now: datetime) -> None:  # fmt: skip
    """Give the episode (its careManager) or the task (its owner) to another worker of the manager's team.

    Refused, changing nothing: a role without caseload.allocate (Forbidden); a worker who is not a member of the
    team (InvalidRequest); work another team holds (Forbidden); a form showing an older version than the record
    holds now, or work that has closed (Conflict); work the caller may not see (the gate's NotFound)."""
    caller.require(CASELOAD_ALLOCATE)
    if resource_type not in MOVABLE:
        raise InvalidRequest("Only a person's episode of care or a task can be moved")
    team = team_of(caller, who)
    target = team.member_of(to_role)
    if target is None or target.role != to_role:
        raise InvalidRequest("The worker chosen is not a member of your team")
    current = caller.read(resource_type, resource_id)
    resource = current.content or {}
    field_name = "careManager" if resource_type == "EpisodeOfCare" else "owner"
    holder = ref_of(resource.get(field_name))
    if holder is None and resource_type == "EpisodeOfCare":
        if ref_of(resource.get("managingOrganization")) not in team.organisations:
            raise Forbidden("This person is on another team's caseload")
    elif team.member_of(holder) is None:
        raise Forbidden("This work is held by another team" if resource_type == "Task"
                        else "This person is on another team's caseload")  # fmt: skip
    if current.version_id != version:
        raise Conflict("Someone changed this since the page was shown: nothing was moved. Look again and try again")
    open_states = OPEN_EPISODE if resource_type == "EpisodeOfCare" else OPEN_TASK
    if resource.get("status") not in open_states:
        raise Conflict("This work has closed: there is nothing to move")
    if holder in (target.role, target.practitioner):
        raise InvalidRequest(f"{target.name} already holds this")
    changed = {**resource, field_name: {"reference": target.role, "display": target.name}}
    if resource_type == "Task":
        changed["lastModified"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        caller.update(resource_type, resource_id, changed, if_match=version)
    except PreconditionFailed as stale:  # changed between the read above and the write: the same refusal
        raise Conflict("Someone changed this since the page was shown: nothing was moved") from stale
