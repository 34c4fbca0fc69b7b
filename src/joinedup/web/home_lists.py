"""The lists on each role's home page, read through the gate with what the record holds today: a practice's
registered list, an organisation's active episodes of care (its caseload), open referrals and tasks sent to it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from joinedup.access.handle import CallerHandle
from joinedup.fhir.search_request import parse_search

from .fhir_display import concept, first_concept, reference_key
from .patient_rows import PatientRow, row_for

Resource = dict[str, Any]
LIST_SIZE = 25
OPEN_TASK_STATUSES = "draft,requested,received,accepted,ready,in-progress,on-hold"


@dataclass
class PersonList:
    rows: list[PatientRow]
    more: bool


def _patients_via(
    caller: CallerHandle, resource_type: str, pairs: list[tuple[str, str]], subject: str, offset: int
) -> PersonList:
    """People that resources of one type point at (episodes, referrals, tasks), one row each, with a note."""
    search = [*pairs, ("_count", str(LIST_SIZE)), ("_offset", str(offset)), ("_include", f"{resource_type}:{subject}")]
    page = caller.search(parse_search(resource_type, search))
    directory = {f"{r['resourceType']}/{r['id']}": r for r in page.included}
    rows: list[PatientRow] = []
    seen: set[str] = set()
    for resource in page.matches:
        key = reference_key(resource.get("patient") or resource.get("subject") or resource.get("for"))
        patient = directory.get(key or "")
        if patient is None or key in seen or patient.get("resourceType") != "Patient":
            continue
        seen.add(key or "")
        note = (
            str(resource.get("description") or "")
            or concept(resource.get("code"))
            or first_concept(resource.get("type"))
        )
        rows.append(row_for(patient, directory, note))
    return PersonList(rows, page.has_next)


def registered_list(caller: CallerHandle, organisation: str, offset: int = 0) -> PersonList:
    pairs = [
        ("general-practitioner", organisation),
        ("_sort", "family,given"),
        ("_count", str(LIST_SIZE)),
        ("_offset", str(offset)),
        ("_include", "Patient:general-practitioner"),
    ]
    page = caller.search(parse_search("Patient", pairs))
    directory = {f"{r['resourceType']}/{r['id']}": r for r in page.included}
    return PersonList([row_for(p, directory) for p in page.matches], page.has_next)


def caseload(caller: CallerHandle, organisation: str, offset: int = 0) -> PersonList:
    pairs = [("organization", organisation), ("status", "active")]
    return _patients_via(caller, "EpisodeOfCare", pairs, "patient", offset)


def open_referrals(caller: CallerHandle, organisation: str) -> PersonList:
    pairs = [("performer", organisation), ("status", "active,draft,on-hold"), ("_sort", "-authored")]
    return _patients_via(caller, "ServiceRequest", pairs, "subject", 0)


def open_tasks(caller: CallerHandle, organisation: str) -> PersonList:
    pairs = [("owner", organisation), ("status", OPEN_TASK_STATUSES), ("_sort", "-authored-on")]
    return _patients_via(caller, "Task", pairs, "patient", 0)


def known_to(caller: CallerHandle, organisation: str) -> PersonList:
    """Patient records an organisation manages (its own records of people)."""
    pairs = [
        ("organization", organisation),
        ("_sort", "family,given"),
        ("_count", str(LIST_SIZE)),
        ("_include", "Patient:general-practitioner"),
    ]
    page = caller.search(parse_search("Patient", pairs))
    directory = {f"{r['resourceType']}/{r['id']}": r for r in page.included}
    return PersonList([row_for(p, directory) for p in page.matches], page.has_next)
