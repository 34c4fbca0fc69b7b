"""The access matrix's cells for the referral routes (decision 0501): the pages (refer from a record, a referral,
the lists) and the ten `$referral-<step>` operations on Task.

Referrals here go to a team of the matrix's author organisation (`mx-svc-author`), which is nobody's organisation in
the matrix, so opening them gives no matrix user a relationship and the other routes' oracles hold; they are written
by the system, tagged as the author's, so the oracle's rule for a personal resource (mx.visible) says who sees them.
The sender is the cell's own user: the sender's steps (cancel, give information) succeed exactly where the user may
see the referral and send referrals; the receiver's steps are refused to everyone (403: not the receiving team, 404:
not visible, 403: no capability) and change nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson

from joinedup.care.referrals.model import NewReferral, referral_resources, step_concept, task_status_of
from joinedup.care.referrals.steps import ACTIONS
from joinedup.fhir.search_request import parse_search
from joinedup.store.context import SYSTEM

from .. import test_matrix_place as mx
from ..test_matrix import CELLS, CSRF, FHIR_JSON, Cell, Check, Place, audited, holds, no_leak, route

TEAM = "mx-svc-author"
SEND, RECEIVE = "referral.send", "referral.receive"
PREPARED = {"give-information": "information-requested", "allocate": "accepted", "claim": "accepted",
            "first-contact": "accepted", "complete": "accepted"}  # fmt: skip
OWN_PARAMETERS: dict[str, list[dict[str, Any]]] = {
    "decline": [{"name": "reason", "valueCode": "not-eligible"}],
    "redirect": [{"name": "service", "valueReference": {"reference": f"HealthcareService/{TEAM}-2"}}],
    "allocate": [{"name": "worker", "valueReference": {"reference": "PractitionerRole/mx-role-00"}}],
}


def _team(place: Place) -> None:
    for team_id in (TEAM, f"{TEAM}-2"):
        team = {
            "resourceType": "HealthcareService",
            "id": team_id,
            "meta": mx._meta(mx.AUTHOR),
            "active": True,
            "name": f"Matrix author team {team_id}",
            "providedBy": {"reference": f"Organization/{mx.AUTHOR.id}"},
        }
        place.store.update(SYSTEM, "HealthcareService", team_id, team)


def _referral(place: Place, pid: str, sender: str, step: str = "sent") -> tuple[str, dict[str, Any]]:
    """A referral of the person to the author's team, sent by `sender`, at `step`: the Task's id and the Task."""
    _team(place)
    new = NewReferral(f"Patient/{pid}", f"HealthcareService/{TEAM}", "Matrix referral", "Matrix reason", "routine",
                      sender)  # fmt: skip
    request, task = referral_resources(new, datetime.now(UTC))
    request_id, task_id = f"mx-sr-{uuid.uuid4().hex[:12]}", f"mx-task-{uuid.uuid4().hex[:12]}"
    meta = mx._meta(mx.AUTHOR)
    place.store.update(SYSTEM, "ServiceRequest", request_id, {**request, "id": request_id, "meta": meta})
    task = {**task, "id": task_id, "meta": meta, "focus": {"reference": f"ServiceRequest/{request_id}"},
            "status": task_status_of(step), "businessStatus": step_concept(step)}  # fmt: skip
    place.store.update(SYSTEM, "Task", task_id, task)
    return task_id, task


def _sees(cell: Cell, task: dict[str, Any]) -> bool:
    return mx.visible(cell.user, mx.Entry(task, cell.subject.patient_id, mx.AUTHOR.code))


def _version(place: Place, task_id: str) -> int:
    return place.store.read(SYSTEM, "Task", task_id).version_id


# --- pages ---------------------------------------------------------------------------------------------------------
def _by_capability(path: str, *capabilities: str) -> None:
    @route("GET", path.replace("complete", "{step}"))
    def check(place: Place, check: Check, _: tuple[str, str]) -> None:
        for cell in CELLS:
            expect = check.cell(cell)
            response, _entries = place.once(cell.user, "page", "GET", path)
            wanted = 200 if holds(cell.role, *capabilities) else 403
            expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
            no_leak(expect, cell.user, response.text)


_by_capability("/referrals/sent", SEND)
_by_capability("/referrals/received", RECEIVE)
_by_capability("/referrals/closed/complete", SEND, RECEIVE)


@route("GET", "/record/{patient_id}/refer")
def _refer_form(place: Place, check: Check, _: tuple[str, str]) -> None:
    for cell in CELLS:
        expect = check.cell(cell)
        response, entries = place.once(cell.user, "page", "GET", f"/record/{cell.subject.patient_id}/refer")
        wanted = 403 if not holds(cell.role, SEND) else 200 if cell.sees_patient else 404
        expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
        if wanted != 403:
            audited(expect, entries, cell.user, {"read"}, "success" if wanted == 200 else "failure")
        no_leak(expect, cell.user, response.text)


def _requests_about(place: Place, pid: str, what: str) -> int:
    page = place.store.search(
        SYSTEM, parse_search("ServiceRequest", [("subject", f"Patient/{pid}"), ("_count", "500")])
    )
    return sum(1 for r in page.matches if (r.get("code") or {}).get("text") == what)


@route("POST", "/record/{patient_id}/refer", kind="write")
def _refer(place: Place, check: Check, _: tuple[str, str]) -> None:
    _team(place)
    for cell in CELLS:
        expect = check.cell(cell)
        pid, what = cell.subject.patient_id, f"Matrix ask {uuid.uuid4().hex[:8]}"
        data = {"service": f"HealthcareService/{TEAM}", "what": what, "why": "Matrix", "urgency": "routine",
                "csrf": CSRF}  # fmt: skip
        response = place.page(cell.user, "POST", f"/record/{pid}/refer", data=data)
        wanted = 403 if not holds(cell.role, SEND) else 303 if cell.sees_patient else 404
        expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
        made = _requests_about(place, pid, what)
        expect(made == (1 if wanted == 303 else 0), f"{made} referrals made")
        no_leak(expect, cell.user, response.text)


@route("GET", "/referrals/{task_id}", kind="write")
def _referral_page(place: Place, check: Check, _: tuple[str, str]) -> None:
    made = {s.patient_id: _referral(place, s.patient_id, "PractitionerRole/mx-sender") for s in mx.SUBJECTS}
    for cell in CELLS:
        expect = check.cell(cell)
        task_id, task = made[cell.subject.patient_id]
        response, entries = place.once(cell.user, "page", "GET", f"/referrals/{task_id}")
        if not holds(cell.role, SEND, RECEIVE):
            wanted = 403
        else:
            wanted = 200 if _sees(cell, task) else 404
            audited(expect, entries, cell.user, {"read"}, "success" if wanted == 200 else "failure")
        expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
        expect(("Matrix referral" in response.text) == (wanted == 200), "the referral is wrongly shown or hidden")
        no_leak(expect, cell.user, response.text)


@route("POST", "/referrals/{task_id}/{step}", kind="write")
def _step_page(place: Place, check: Check, _: tuple[str, str]) -> None:
    """The sender cancels (303 where they see it); accepting is the receiving team's (403 for all, or 404)."""
    for cell in CELLS:
        for step, capability in (("cancel", SEND), ("accept", RECEIVE)):
            expect = check.cell(f"{cell}, {step}")
            task_id, task = _referral(place, cell.subject.patient_id, cell.user.user)
            response = place.page(cell.user, "POST", f"/referrals/{task_id}/{step}",
                                  data={"csrf": CSRF, "version": "1"})  # fmt: skip
            if not holds(cell.role, capability):
                wanted = 403
            elif not _sees(cell, task):
                wanted = 404
            else:
                wanted = 303 if step == "cancel" else 403
            expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
            changed = _version(place, task_id) != 1
            expect(changed == (wanted == 303), "changed by a refused step" if changed else "not changed")
            no_leak(expect, cell.user, response.text)


# --- the API's operations ------------------------------------------------------------------------------------------
def _operation(name: str) -> Callable[[Place, Check, tuple[str, str]], None]:
    action = ACTIONS[name]

    def check(place: Place, check: Check, _: tuple[str, str]) -> None:
        for cell in CELLS:
            expect = check.cell(cell)
            task_id, task = _referral(place, cell.subject.patient_id, cell.user.user, PREPARED.get(name, "sent"))
            body = {"resourceType": "Parameters", "parameter": [{"name": "version", "valueInteger": 1},
                    {"name": "note", "valueString": "Matrix note"}, *OWN_PARAMETERS.get(name, [])]}  # fmt: skip
            seq = place.last_seq()
            response = place.api(cell.user, "POST", f"/fhir/Task/{task_id}/$referral-{name}",
                                 content=orjson.dumps(body), headers=FHIR_JSON)  # fmt: skip
            if not holds(cell.role, str(action.capability)):
                wanted = 403
            elif not _sees(cell, task):
                wanted = 404
            else:
                wanted = 200 if action.actor == "sender" else 403
            expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
            if wanted == 200:
                audited(expect, place.audit_since(seq), cell.user, {"transaction"}, "success")
            elif wanted == 404:
                audited(expect, place.audit_since(seq), cell.user, {"read"}, "failure")
            changed = _version(place, task_id) != 1
            expect(changed == (wanted == 200), "changed by a refused step" if changed else "not changed")
            no_leak(expect, cell.user, response.text)

    return check


for _name in ACTIONS:
    route("POST", f"/fhir/Task/{{task_id}}/$referral-{_name}", kind="write")(_operation(_name))
