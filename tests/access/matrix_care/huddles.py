"""The access matrix's cells for the MDG huddle pages (decision 0505): every route × every role × the cell's
dimensions, each with one expected answer.

Each route runs on a fresh place per database (the MDG's lists are relationships, which would change what other
routes' cells see). The place gets an MDG whose members are every role's user that may take part in huddles except
the GP's (a capable non-member), and a current case-finding List naming the related, not objecting person
(LISTED, both their records) — written by the system as the publication writes it. Writes name the version the
page showed; a cell's refusal must change nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from joinedup.care.huddles.model import (
    NewAction,
    action_task,
    action_token,
    agenda,
    agenda_entry,
    case_finding_list,
    listed_patients,
    mdg_group,
)
from joinedup.fhir.search_request import parse_search

from .. import test_matrix_place as mx
from ..test_matrix import CELLS, Cell, Check, Place, holds, no_leak, route

GROUP = "mx-mdg"
ATTEND = ("huddle.attend", "caseload.manage")
MANAGE = ("caseload.manage",)
NON_MEMBER_ROLE = "gp"  # holds huddle.attend but is not a member of the matrix MDG
LISTED = mx.subject(True, False)
SECOND = mx.subject(False, False)  # not on the case-finding list; the person added to an agenda
NOW = datetime(2026, 1, 5, 9, tzinfo=UTC)
Resource = dict[str, Any]


def _member(role: str) -> bool:
    return holds(role, *ATTEND) and role != NON_MEMBER_ROLE and role != "system"


def _members() -> list[str]:
    return [mx.user_for(r, LISTED).user.partition("/")[2] for r in mx.ROLES if _member(r)]


def _listed_ids(who: mx.Subject) -> list[str]:
    return [who.patient_id, who.second_record("plain")]


def _set_up(place: Place) -> None:
    system = place.gate.for_system("matrix-huddles")
    coordinator = mx.user_for("mdg-coordinator", LISTED)
    group = mdg_group(GROUP, "Matrix MDG", "MX1", [], _members(), str(coordinator.organisation))
    system.update("Group", GROUP, group)
    system.create(case_finding_list(GROUP, [*_listed_ids(LISTED), *_listed_ids(SECOND)], NOW))


def _agenda(place: Place) -> tuple[str, int]:
    """A current agenda naming the listed person, as the coordinator builds one (written by the system)."""
    system = place.gate.for_system("matrix-huddles")
    entries = [agenda_entry(pid, "case-finding", NOW) for pid in _listed_ids(LISTED)]
    made = system.create(agenda(GROUP, "Matrix huddle", date(2026, 1, 6), entries)).written
    return made.id, made.version_id


def _action(place: Place, agenda_id: str) -> tuple[str, int]:
    coordinator = mx.user_for("mdg-coordinator", LISTED).user
    new = NewAction(LISTED.patient_id, "Matrix action", "HealthcareService/none", date(2099, 1, 1), coordinator,
                    GROUP, agenda_id)  # fmt: skip
    made = place.gate.for_system("matrix-huddles").create(action_task(new, NOW)).written
    return made.id, made.version_id


def _read(place: Place, resource_type: str, resource_id: str) -> Resource:
    return place.gate.for_system("matrix-huddles").read(resource_type, resource_id).content or {}


def _lists(place: Place) -> int:
    system = place.gate.for_system("matrix-huddles")
    return len(system.search(parse_search("List", [("_count", "1000")])).matches)


def _names_listed(expect: Any, cell: Cell, body: str, shown: bool) -> None:
    """Members see the listed person by name; anyone else only when the direct-care rules already show them."""
    named = LISTED.family in body
    if shown:
        expect(named, "the listed person is not named")
    elif not mx.visible(cell.user, mx.entry_of(f"Patient/{LISTED.patient_id}")):
        expect(not named, "names the listed person to someone who is not a member")


def _refused(expect: Any, response: Any, codes: tuple[int, ...]) -> None:
    expect(response.status_code in codes, f"status {response.status_code}, expected one of {codes}")


@route("GET", "/mdg", "fresh")
def _my_groups(place: Place, check: Check, _: tuple[str, str]) -> None:
    _set_up(place)
    for cell in CELLS:
        expect = check.cell(cell)
        response, _entries = place.once(cell.user, "page", "GET", "/mdg")
        if not holds(cell.role, *ATTEND):
            _refused(expect, response, (403,))
        else:
            expect(response.status_code == 200, f"status {response.status_code}, expected 200")
            expect(("Matrix MDG" in response.text) == _member(cell.role), "the group list is wrong")
        no_leak(expect, cell.user, response.text, names=False)


@route("GET", "/mdg/{group_id}", "fresh")
def _group(place: Place, check: Check, _: tuple[str, str]) -> None:
    _set_up(place)
    for cell in CELLS:
        expect = check.cell(cell)
        response, _entries = place.once(cell.user, "page", "GET", f"/mdg/{GROUP}")
        if _member(cell.role):
            expect(response.status_code == 200, f"status {response.status_code}, expected 200")
        else:
            _refused(expect, response, (403,))
        _names_listed(expect, cell, response.text, _member(cell.role))
        expect(SECOND.family not in response.text or mx.visible(cell.user, mx.entry_of(f"Patient/{SECOND.patient_id}"))
               or _member(cell.role), "names the second person")  # fmt: skip
        no_leak(expect, cell.user, response.text, names=False)


@route("GET", "/mdg/agendas/{list_id}", "fresh")
def _huddle(place: Place, check: Check, _: tuple[str, str]) -> None:
    _set_up(place)
    agenda_id, _version = _agenda(place)
    for cell in CELLS:
        expect = check.cell(cell)
        response, _entries = place.once(cell.user, "page", "GET", f"/mdg/agendas/{agenda_id}")
        if _member(cell.role):
            expect(response.status_code == 200, f"status {response.status_code}, expected 200")
        else:
            _refused(expect, response, (403, 404) if holds(cell.role, *ATTEND) else (403,))
        _names_listed(expect, cell, response.text, _member(cell.role))
        no_leak(expect, cell.user, response.text, names=False)


@route("POST", "/mdg/{group_id}/agendas", "fresh")
def _start(place: Place, check: Check, _: tuple[str, str]) -> None:
    _set_up(place)
    for cell in CELLS:
        expect = check.cell(cell)
        before = _lists(place)
        form = {"title": "Cell huddle", "meeting": "2026-02-01", "case_finding": "yes"}
        response = place.page(cell.user, "POST", f"/mdg/{GROUP}/agendas", data=form)
        allowed = _member(cell.role) and holds(cell.role, *MANAGE)
        if allowed:
            expect(response.status_code == 303, f"status {response.status_code}, expected 303")
            expect(_lists(place) == before + 1, "no agenda made")
        else:
            _refused(expect, response, (403,))
            expect(_lists(place) == before, "an agenda was made")
        no_leak(expect, cell.user, response.text, names=False)


@route("POST", "/mdg/{group_id}/case-finding", "fresh")
def _publish(place: Place, check: Check, _: tuple[str, str]) -> None:
    """No refresh on the matrix place: the coordinator is told so (409); everyone else is refused; nothing written."""
    _set_up(place)
    for cell in CELLS:
        expect = check.cell(cell)
        before = _lists(place)
        response = place.page(cell.user, "POST", f"/mdg/{GROUP}/case-finding", data={})
        allowed = _member(cell.role) and holds(cell.role, *MANAGE)
        _refused(expect, response, (409,) if allowed else (403,))
        expect(_lists(place) == before, "a list was written")
        no_leak(expect, cell.user, response.text, names=False)


def _agenda_write(place: Place, check: Check, path: str, form_of: Any, manage: bool, changed: Any) -> None:
    _set_up(place)
    for cell in CELLS:
        expect = check.cell(cell)
        agenda_id, version = _agenda(place)
        task_id, task_version = _action(place, agenda_id)
        url = path.format(list_id=agenda_id, task_id=task_id, patient_id=LISTED.patient_id)
        before = (_read(place, "List", agenda_id), _read(place, "Task", task_id))
        response = place.page(cell.user, "POST", url, data=form_of(version, task_version))
        allowed = _member(cell.role) and (holds(cell.role, *MANAGE) if manage else True)
        after = (_read(place, "List", agenda_id), _read(place, "Task", task_id))
        if allowed:
            expect(response.status_code == 303, f"status {response.status_code}, expected 303: {response.text[-300:]}")
            expect(changed(place, agenda_id, task_id), "the change was not made")
        else:
            _refused(expect, response, (403, 404) if holds(cell.role, *ATTEND) else (403,))
            expect(after == before, "a refused request changed something")
            expect(not _new_actions(place, agenda_id), "a refused request recorded an action")
        no_leak(expect, cell.user, response.text, names=False)


def _new_actions(place: Place, agenda_id: str) -> list[Resource]:
    system = place.gate.for_system("matrix-huddles")
    found = system.search(parse_search("Task", [("code", action_token()), ("_count", "1000")])).matches
    return [t for t in found if t.get("description") == "Cell action" and f"List/{agenda_id}" in str(t.get("input"))]


@route("POST", "/mdg/agendas/{list_id}/people", "fresh")
def _add(place: Place, check: Check, key: tuple[str, str]) -> None:
    _agenda_write(place, check, "/mdg/agendas/{list_id}/people",
                  lambda v, _t: {"version": str(v), "person": SECOND.patient_id}, False,
                  lambda p, a, _t: SECOND.patient_id in str(_read(p, "List", a).get("entry")))  # fmt: skip


@route("POST", "/mdg/agendas/{list_id}/people/{patient_id}/remove", "fresh")
def _remove(place: Place, check: Check, key: tuple[str, str]) -> None:
    _agenda_write(place, check, "/mdg/agendas/{list_id}/people/{patient_id}/remove",
                  lambda v, _t: {"version": str(v)}, True,
                  lambda p, a, _t: LISTED.patient_id not in listed_patients(_read(p, "List", a)))  # fmt: skip


@route("POST", "/mdg/agendas/{list_id}/actions", "fresh")
def _record(place: Place, check: Check, key: tuple[str, str]) -> None:
    due = (datetime.now(UTC).date() + timedelta(days=7)).isoformat()
    owner = f"PractitionerRole/{_members()[0]}"
    _agenda_write(place, check, "/mdg/agendas/{list_id}/actions",
                  lambda _v, _t: {"patient_id": LISTED.patient_id, "description": "Cell action", "owner": owner,
                                  "due": due}, False,
                  lambda p, a, _t: bool(_new_actions(p, a)))  # fmt: skip


@route("POST", "/mdg/agendas/{list_id}/actions/{task_id}/close", "fresh")
def _close_action(place: Place, check: Check, key: tuple[str, str]) -> None:
    _agenda_write(place, check, "/mdg/agendas/{list_id}/actions/{task_id}/close",
                  lambda _v, t: {"version": str(t), "outcome": "completed"}, False,
                  lambda p, _a, t: _read(p, "Task", t).get("status") == "completed")  # fmt: skip


@route("POST", "/mdg/agendas/{list_id}/close", "fresh")
def _close_meeting(place: Place, check: Check, key: tuple[str, str]) -> None:
    _agenda_write(place, check, "/mdg/agendas/{list_id}/close", lambda v, _t: {"version": str(v)}, True,
                  lambda p, a, _t: _read(p, "List", a).get("status") == "retired")  # fmt: skip
