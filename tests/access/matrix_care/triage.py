"""The access matrix's cells for the single point of access's routes (decision 0503).

Pages gated by capability alone (the queue, the intake form, the measures) answer 200 with it and 403 without,
showing nothing the user may not see. The routes that change a contact or a flag run on a fresh place each (an open
triage Task is itself a relationship, so they would change what other routes' cells expect): each cell writes its
own contact or flag about the cell's person, through the system, owned by a service no matrix user belongs to, then
asks as the cell's user — 403 without `triage`; with it, done (303, and the change made) when the user may see the
person, otherwise refused (404 for what they may not see, 403 for new content about someone they have no
relationship with), and nothing changed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from joinedup.care.triage.model import NewContact, communication_of, flag_of, triage_task_of
from joinedup.care.vocabulary import vocabulary
from joinedup.fhir.search_request import parse_search
from joinedup.fhir.source import SOURCE_URI_PREFIX, stamp_source

from .. import test_matrix_place as mx
from ..test_matrix import (
    CELLS,
    CSRF,
    PAGE_CAPABILITIES,
    ROUTE_CHECKS,
    Cell,
    Check,
    Place,
    _capable,
    holds,
    no_leak,
    route,
    sees,
)

TRIAGE = "triage"
NEUTRAL_SPA = "HealthcareService/mx-spa-neutral"  # provided by the acute trust: no matrix user is on its staff
NOW_CONTACT = "Fell at home twice this week"

PAGE_CAPABILITIES[("GET", "/spa")] = (TRIAGE,)
PAGE_CAPABILITIES[("GET", "/spa/contacts/new")] = (TRIAGE,)
PAGE_CAPABILITIES[("GET", "/spa/measures")] = ("spa.measures.read",)
for _key in ("/spa", "/spa/contacts/new", "/spa/measures"):
    ROUTE_CHECKS[("GET", _key)] = _capable


def _services(place: Place) -> None:
    """The neutral single point of access, and one run by each role's organisation (idempotent)."""
    system, code = "http://snomed.info/sct", "310023007"
    services = [("mx-spa-neutral", mx.AUTHOR)] + [(f"mx-spa-{r}", mx.role_org(r)) for r in mx.ROLES]
    writer = place.gate.for_system("mx-triage")
    kind = [{"coding": [{"system": system, "code": code}]}]
    writer.bulk_write([
        {"resourceType": "HealthcareService", "id": sid, "active": True, "name": f"SPA {sid}",
         "providedBy": {"reference": f"Organization/{org.id}"}, "type": kind}
        for sid, org in services
    ])  # fmt: skip


def _contact(place: Place, cell: Cell, patient: str | None, spa: str = NEUTRAL_SPA) -> tuple[str, str]:
    """A contact written by the system (its Communication and triage Task); the Task's id and version."""
    new = NewContact(spa, "phone", "carer", "same-day", NOW_CONTACT, patient)
    now = datetime.now(UTC)
    communication, task = communication_of(new, now), triage_task_of(new, now)
    if patient is None:  # not yet identified: the cell's user's organisation took it (its source tag)
        code = mx.role_org(cell.role).code if cell.user.organisation else mx.AUTHOR.code
        for resource in (communication, task):
            stamp_source(resource, f"{SOURCE_URI_PREFIX}{code.lower()}", code)
    writer = place.gate.for_system("mx-triage")
    made = writer.create(communication).written
    task["focus"] = {"reference": f"Communication/{made.id}"}
    written = writer.create(task).written
    return str(written.id), str(written.version_id)


def _task(place: Place, task_id: str) -> dict[str, Any]:
    return dict(place.gate.for_system("mx-triage").read("Task", task_id).content or {})


def _expected(cell: Cell, refused_unseen: int) -> int:
    if not holds(cell.role, TRIAGE):
        return 403
    return 303 if sees(cell.user, cell.subject.patient_id) else refused_unseen


def _starts(cell: Cell) -> int:
    """Taking a contact about someone, or naming who a contact was about, starts the relationship for the single
    point of access (access/relationship_starts.py, decision 0500): every cell's person for a triage role, whether
    or not a relationship or an objection was there before; nobody else."""
    return 303 if holds(cell.role, TRIAGE) else 403


@route("GET", "/spa/contacts/{task_id}", kind="fresh")
def _contact_page(place: Place, check: Check, _: tuple[str, str]) -> None:
    _services(place)
    for cell in CELLS:
        expect = check.cell(cell)
        task_id, _version = _contact(place, cell, f"Patient/{cell.subject.patient_id}")
        response = place.page(cell.user, "GET", f"/spa/contacts/{task_id}")
        wanted = {303: 200}.get(_expected(cell, 404), _expected(cell, 404))
        expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
        expect((NOW_CONTACT in response.text) == (wanted == 200), "the contact's words shown (or not) wrongly")
        no_leak(expect, cell.user, response.text)


@route("POST", "/spa/contacts/new", kind="fresh")
def _intake(place: Place, check: Check, _: tuple[str, str]) -> None:
    _services(place)
    code = f"{vocabulary().system('work_kind')}|triage"
    for cell in CELLS:
        expect = check.cell(cell)
        pid = cell.subject.patient_id
        before = _triage_tasks(place, pid, code)
        form = {"action": "save", "route": "phone", "came_from": "carer", "urgency": "same-day", "what": NOW_CONTACT,
                "patient": pid, "csrf": CSRF}  # fmt: skip
        response = place.page(cell.user, "POST", "/spa/contacts/new", data=form)
        wanted = _starts(cell)
        expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
        made = _triage_tasks(place, pid, code) - before
        expect(len(made) == (1 if wanted == 303 else 0), f"{len(made)} contacts made")
        no_leak(expect, cell.user, response.text)


def _triage_tasks(place: Place, pid: str, code: str) -> set[str]:
    found = place.gate.for_system("mx-triage").search(
        parse_search("Task", [("code", code), ("subject", f"Patient/{pid}"), ("_count", "1000")])
    )
    return {str(t["id"]) for t in found.matches}


@route("POST", "/spa/contacts/{task_id}/decision", kind="fresh")
def _decision(place: Place, check: Check, _: tuple[str, str]) -> None:
    _services(place)
    for cell in CELLS:
        expect = check.cell(cell)
        task_id, version = _contact(place, cell, f"Patient/{cell.subject.patient_id}")
        data = {"version": version, "outcome": "advice", "note": "Signposted", "csrf": CSRF}
        response = place.page(cell.user, "POST", f"/spa/contacts/{task_id}/decision", data=data)
        wanted = _expected(cell, 404)
        expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
        status = _task(place, task_id).get("status")
        expect(status == ("completed" if wanted == 303 else "requested"), f"the contact is {status}")
        no_leak(expect, cell.user, response.text)


@route("POST", "/spa/contacts/{task_id}/identify", kind="fresh")
def _identify(place: Place, check: Check, _: tuple[str, str]) -> None:
    _services(place)
    for cell in CELLS:
        expect = check.cell(cell)
        pid = cell.subject.patient_id
        # the user's own organisation's SPA took it (as it would have), so the linked contact is theirs to read back
        task_id, version = _contact(place, cell, None, f"HealthcareService/mx-spa-{cell.role}")
        data = {"version": version, "action": "link", "patient": pid, "csrf": CSRF}
        response = place.page(cell.user, "POST", f"/spa/contacts/{task_id}/identify", data=data)
        wanted = _starts(cell)
        expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
        linked = (_task(place, task_id).get("for") or {}).get("reference")
        expect(linked == (f"Patient/{pid}" if wanted == 303 else None), f"the contact is linked to {linked}")
        no_leak(expect, cell.user, response.text.replace(f'value="{pid}"', ""))


def _flags(place: Place, pid: str) -> list[dict[str, Any]]:
    found = place.gate.for_system("mx-triage").search(parse_search("Flag", [("subject", f"Patient/{pid}")]))
    return [f for f in found.matches if f.get("category")]


@route("POST", "/spa/contacts/{task_id}/flag", kind="fresh")
def _raise_flag(place: Place, check: Check, _: tuple[str, str]) -> None:
    _services(place)
    for cell in CELLS:
        expect = check.cell(cell)
        pid = cell.subject.patient_id
        task_id, _version = _contact(place, cell, f"Patient/{pid}")
        before = len(_flags(place, pid))
        data = {"what": "Lives alone", "review_day": "1", "review_month": "1", "review_year": "2099", "csrf": CSRF}
        response = place.page(cell.user, "POST", f"/spa/contacts/{task_id}/flag", data=data)
        wanted = _expected(cell, 404)
        expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
        made = len(_flags(place, pid)) - before
        expect(made == (1 if wanted == 303 else 0), f"{made} flags raised")
        no_leak(expect, cell.user, response.text)


@route("POST", "/spa/flags/{flag_id}", kind="fresh")
def _change_flag(place: Place, check: Check, _: tuple[str, str]) -> None:
    for cell in CELLS:
        expect = check.cell(cell)
        pid = cell.subject.patient_id
        now = datetime.now(UTC)
        flag = flag_of(f"Patient/{pid}", "Lives alone", now.replace(year=now.year + 1), None, now)
        written = place.gate.for_system("mx-triage").create(flag).written
        data = {"version": str(written.version_id), "action": "close", "patient_id": pid, "csrf": CSRF}
        response = place.page(cell.user, "POST", f"/spa/flags/{written.id}", data=data)
        wanted = _expected(cell, 404)
        expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
        status = place.gate.for_system("mx-triage").read("Flag", str(written.id)).content["status"]
        expect(status == ("inactive" if wanted == 303 else "active"), f"the flag is {status}")
        if wanted == 303:
            expect(bool(re.fullmatch(f"/record/{pid}#vulnerable-person", response.headers["location"])),
                   "back to the record")  # fmt: skip
        no_leak(expect, cell.user, response.text)
