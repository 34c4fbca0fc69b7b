"""The referrals a caller may see, as `Referral` views: one, those on a person's record, those someone sent, a team's
work list. Each is a search through the caller's handle (so the gate decides what is shown and audits it): Tasks
with `code = fulfill` and their ServiceRequests (`_include=Task:focus`); a team's list starts from the requests it
is the performer of (allocated work is owned by a named worker, but still the team's)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from joinedup.access.handle import CallerHandle
from joinedup.care.vocabulary import vocabulary
from joinedup.fhir.errors import Gone, NotFound
from joinedup.fhir.search_request import parse_search

from .model import Referral

PAGE = 500
OPEN_TASK = "requested,received,accepted,in-progress,on-hold"
URGENCY_ORDER = {"same-day": 0, "72-hours": 1, "routine": 2}


def _fulfil() -> str:
    return f"{vocabulary().system('task_code')}|fulfill"


def _pages(caller: CallerHandle, resource_type: str, params: Sequence[tuple[str, str]]) -> Iterator[Any]:
    offset = 0
    while True:
        request = parse_search(resource_type, [*params, ("_count", str(PAGE)), ("_offset", str(offset))])
        page = caller.search(request)
        yield page
        if not page.has_next:
            return
        offset += PAGE


def _from_tasks(caller: CallerHandle, params: Sequence[tuple[str, str]]) -> list[Referral]:
    tasks: list[dict[str, Any]] = []
    requests: dict[str, dict[str, Any]] = {}
    query = [("code", _fulfil()), ("_include", "Task:focus"), *params]
    for page in _pages(caller, "Task", query):
        tasks.extend(page.matches)
        included = (r for r in page.included if r["resourceType"] == "ServiceRequest")
        requests.update({f"ServiceRequest/{r['id']}": r for r in included})
    return [Referral(t, requests[focus]) for t in tasks if (focus := _focus(t)) in requests]


def _focus(task: dict[str, Any]) -> str:
    return str((task.get("focus") or {}).get("reference") or "")


def read_referral(caller: CallerHandle, task_id: str) -> Referral:
    """One referral by its Task's id; NotFound when there is none the caller may see (or the Task is no referral)."""
    try:
        task = caller.read("Task", task_id).content or {}
    except Gone:
        raise NotFound(f"There is no referral {task_id}") from None
    codes = {(c.get("system"), c.get("code")) for c in (task.get("code") or {}).get("coding") or []}
    focus = _focus(task)
    if (vocabulary().system("task_code"), "fulfill") not in codes or not focus.startswith("ServiceRequest/"):
        raise NotFound(f"There is no referral {task_id}")
    request = caller.read("ServiceRequest", focus.split("/", 1)[1]).content or {}
    return Referral(task, request)


def for_patient(caller: CallerHandle, patient_id: str) -> list[Referral]:
    """The referrals on a person's record (open first, then the most recently changed): every step is on the Task."""
    found = _from_tasks(caller, [("patient", f"Patient/{patient_id}")])
    return sorted(found, key=lambda r: (not r.is_open, -_stamp(r.last_modified)))


def sent_by(caller: CallerHandle, who: str) -> list[Referral]:
    """The referrals a member of staff (or an organisation) sent, open first, then the most recently changed."""
    found = _from_tasks(caller, [("requester", who)])
    return sorted(found, key=lambda r: (not r.is_open, -_stamp(r.last_modified)))


def for_team(caller: CallerHandle, services: Iterable[str]) -> list[Referral]:
    """The open referrals with these teams (HealthcareService references): the work list, unallocated first, then
    by urgency and by when a decision is due."""
    wanted = sorted(set(services))
    if not wanted:
        return []
    requests: list[dict[str, Any]] = []
    tasks: dict[str, dict[str, Any]] = {}
    query = [("performer", ",".join(wanted)), ("status", "active,on-hold"), ("_revinclude", "Task:focus")]
    for page in _pages(caller, "ServiceRequest", query):
        requests.extend(page.matches)
        for task in page.included:
            if task["resourceType"] == "Task" and _is_referral_task(task) and task.get("status") in OPEN_TASK:
                tasks[_focus(task)] = task
    found = [Referral(tasks[f"ServiceRequest/{r['id']}"], r) for r in requests if f"ServiceRequest/{r['id']}" in tasks]
    return sorted(found, key=work_order)


def received_by(caller: CallerHandle, organisation: str) -> list[Referral]:
    """The open referrals with any team of an organisation."""
    teams = [f"HealthcareService/{s['id']}" for page in _pages(caller, "HealthcareService", [
        ("organization", organisation)]) for s in page.matches]  # fmt: skip
    return for_team(caller, teams)


def work_order(referral: Referral) -> tuple[int, int, float]:
    due = referral.due
    return (int(referral.allocated), URGENCY_ORDER.get(referral.urgency, 3), _stamp(due) if due else float("inf"))


def _is_referral_task(task: dict[str, Any]) -> bool:
    codes = {(c.get("system"), c.get("code")) for c in (task.get("code") or {}).get("coding") or []}
    return (vocabulary().system("task_code"), "fulfill") in codes


def _stamp(moment: datetime | None) -> float:
    return (moment or datetime(1970, 1, 1, tzinfo=UTC)).timestamp()
