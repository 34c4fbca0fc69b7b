"""What the MDG pages show, gathered through the caller's handle (run off the event loop by pages.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from joinedup.access.handle import CallerHandle
from joinedup.care.permissions import CASELOAD_MANAGE
from joinedup.fhir.nhs_number import NHS_NUMBER_SYSTEM, is_valid, normalise
from joinedup.fhir.search_request import parse_search
from joinedup.web.fhir_display import human_name, long_date

from . import service
from .model import WHY_SHOWN, Action, Mdg, why_listed
from .summary import HuddleSummary, Person, people_of, summarise_person

Resource = dict[str, Any]


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


def staff_names(caller: CallerHandle, references: list[str]) -> dict[str, str]:
    """'PractitionerRole/<id>' -> 'Name, Organisation' (directory data, read like any directory)."""
    ids = [r.partition("/")[2] for r in references if r.startswith("PractitionerRole/")]
    if not ids:
        return {}
    pairs = [("_id", ",".join(ids)), ("_count", str(len(ids))), ("_include", "PractitionerRole:practitioner"),
             ("_include", "PractitionerRole:organization")]  # fmt: skip
    page = caller.search(parse_search("PractitionerRole", pairs))
    included = {f"{r['resourceType']}/{r['id']}": r for r in page.included}
    names = {}
    for role in page.matches:
        person = included.get(str((role.get("practitioner") or {}).get("reference", "")), {})
        org = included.get(str((role.get("organization") or {}).get("reference", "")), {})
        label = human_name(person.get("name")) or "Not named"
        names[f"PractitionerRole/{role['id']}"] = f"{label}, {org.get('name') or 'organisation not recorded'}"
    return names


def owners(caller: CallerHandle, mdg: Mdg) -> list[Choice]:
    """Who an action can be given to: the MDG's members, then the teams (HealthcareServices) in the directory."""
    members = staff_names(caller, mdg.members)
    choices = [Choice(ref, name) for ref, name in sorted(members.items(), key=lambda pair: pair[1])]
    teams = caller.search(parse_search("HealthcareService", [("active", "true"), ("_count", "200")])).matches
    choices += [Choice(f"HealthcareService/{t['id']}", f"Team: {t.get('name') or t['id']}") for t in teams]
    return choices


def owner_names(caller: CallerHandle, actions: list[Action]) -> dict[str, str]:
    names = staff_names(caller, [a.owner for a in actions])
    teams = [a.owner.partition("/")[2] for a in actions if a.owner.startswith("HealthcareService/")]
    if teams:
        pairs = [("_id", ",".join(sorted(set(teams)))), ("_count", str(len(teams)))]
        for team in caller.search(parse_search("HealthcareService", pairs)).matches:
            names[f"HealthcareService/{team['id']}"] = f"Team: {team.get('name') or team['id']}"
    return names


def groups_page(caller: CallerHandle) -> dict[str, Any]:
    return {"groups": service.my_groups(caller)}


def group_page(caller: CallerHandle, group_id: str) -> dict[str, Any]:
    mdg = service.group_for(caller, group_id)
    listed = service.current_case_finding(caller, mdg)
    listed_ids = listed.patient_ids if listed else []
    people, hidden = people_of(listed_ids, service.patients(caller, listed_ids))
    actions = service.open_actions(caller, mdg)
    return {
        "mdg": mdg,
        "members": [staff_names(caller, mdg.members).get(m, m) for m in mdg.members],
        "listed": listed,
        "listed_date": long_date(str((listed.resource.get("date") if listed else "") or "")),
        "people": people,
        "hidden": hidden,
        "agendas": service.agendas(caller, mdg),
        "actions": actions,
        "action_people": _names_of(caller, actions),
        "owner_names": owner_names(caller, actions),
        "coordinating": caller.may(CASELOAD_MANAGE),
        "today": date.today().isoformat(),
    }


def _names_of(caller: CallerHandle, actions: list[Action]) -> dict[str, str]:
    shown = service.patients(caller, [a.patient_id for a in actions])
    return {pid: human_name(p.get("name")) or "Name not recorded" for pid, p in shown.items()}


@dataclass
class HuddlePage:
    mdg: Mdg
    agenda: service.ListRead
    summaries: list[HuddleSummary]
    hidden: int
    owners: list[Choice]
    owner_names: dict[str, str]
    carried: list[Action]  # open actions of people on the agenda, from earlier meetings
    coordinating: bool
    why_shown: dict[str, str]


def huddle_page(caller: CallerHandle, list_id: str, population_db: Path | None) -> HuddlePage:
    mdg, read = service.agenda_for(caller, list_id)
    why = why_listed(read.resource)
    people, hidden = people_of(read.patient_ids, service.patients(caller, read.patient_ids))
    actions = service.actions_of_agenda(caller, mdg, read.id)
    today = datetime.now(UTC).date()
    summaries = [
        summarise_person(caller, person, _why_of(person, why), actions, population_db, today) for person in people
    ]
    return HuddlePage(
        mdg=mdg,
        agenda=read,
        summaries=summaries,
        hidden=hidden,
        owners=owners(caller, mdg),
        owner_names=owner_names(caller, actions),
        carried=[a for a in actions if a.is_open and a.agenda_id != read.id],
        coordinating=caller.may(CASELOAD_MANAGE),
        why_shown=WHY_SHOWN,
    )


def _why_of(person: Person, why: dict[str, list[str]]) -> list[str]:
    found: list[str] = []
    for pid in person.patient_ids:
        found += [w for w in why.get(pid, []) if w not in found]
    return found


def records_for(caller: CallerHandle, wanted: str) -> list[str]:
    """The Patient records a member means by an NHS number (every record of it they can see) or a record id."""
    text = wanted.strip()
    number = normalise(text)
    if number.isdigit() and len(number) == 10 and is_valid(number):
        pairs = [("identifier", f"{NHS_NUMBER_SYSTEM}|{number}"), ("_count", "20")]
        return [str(p["id"]) for p in caller.search(parse_search("Patient", pairs)).matches]
    return list(service.patients(caller, [text])) if text else []
