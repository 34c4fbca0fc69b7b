"""The access matrix's cells for the caseload pages (decision 0504): GET /caseload/team and POST /caseload/move.

The team page is gated by caseload.allocate alone (200 with it, 403 without) and names nobody the user may not see.
A move is tried in every cell on real work: each role's organisation gets a team of two workers, and the cell's
person an open episode of that organisation held by the first worker (written as the organisation's own, so a
manager sees it whatever the person's objection); the form moves it to the second worker. With caseload.allocate it
lands (303, the episode's careManager is the second worker, the update audited) when the user may see the person:
the gate refuses a write naming a person the user may not see, so a person who objected to sharing (whose record
another organisation keeps) cannot be moved, and is refused (403) like a role without the capability; a refusal
changes nothing. The episode is closed afterwards, so that the relationship it gave ends before the other write
routes' cells run on the same place.
"""

from __future__ import annotations

from typing import Any

from joinedup.store.context import SYSTEM

from ...web import place as web_place
from .. import test_matrix_place as mx
from ..test_matrix import CELLS, CSRF, Cell, Check, Place, audited, holds, no_leak, route

ALLOCATE = "caseload.allocate"


@route("GET", "/caseload/team")
def _team_page(place: Place, check: Check, _: tuple[str, str]) -> None:
    for cell in CELLS:
        expect = check.cell(cell)
        response, _entries = place.once(cell.user, "page", "GET", "/caseload/team")
        wanted = 200 if holds(cell.role, ALLOCATE) else 403
        expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
        no_leak(expect, cell.user, response.text)


def _ref(reference: str) -> dict[str, str]:
    return {"reference": reference}


def _work_for(cell: Cell) -> tuple[str, str, list[dict[str, Any]]]:
    """The cell's episode id, the worker it is to move to, and the resources to load (team, workers, episode)."""
    number = mx.ROLES.index(cell.role)
    org = mx.role_org(cell.role)
    meta = mx._meta(org)
    team = f"mx-cl-team-{number:02d}"
    workers = [f"mx-cl-worker-{number:02d}-{letter}" for letter in "ab"]
    episode = f"mx-cl-ep-{number:02d}-{int(cell.related)}{int(cell.objected)}{int(cell.sensitive)}"
    resources: list[dict[str, Any]] = [
        {"resourceType": "HealthcareService", "id": team, "meta": meta, "active": True,
         "providedBy": _ref(f"Organization/{org.id}"), "name": f"{org.name} team"},
        *({"resourceType": "PractitionerRole", "id": worker, "meta": meta, "active": True,
           "organization": _ref(f"Organization/{org.id}"), "healthcareService": [_ref(f"HealthcareService/{team}")]}
          for worker in workers),
        {"resourceType": "EpisodeOfCare", "id": episode, "meta": meta, "status": "active",
         "patient": _ref(f"Patient/{cell.subject.patient_id}"), "managingOrganization": _ref(f"Organization/{org.id}"),
         "careManager": _ref(f"PractitionerRole/{workers[0]}"), "period": {"start": "2026-01-01"}},
    ]  # fmt: skip
    return episode, f"PractitionerRole/{workers[1]}", resources


@route("POST", "/caseload/move", kind="write")
def _move(place: Place, check: Check, _: tuple[str, str]) -> None:
    for cell in CELLS:
        expect = check.cell(cell)
        episode, to, resources = _work_for(cell)
        web_place.load(place.store, [{**r, "meta": dict(r["meta"])} for r in resources])
        before = place.store.read(SYSTEM, "EpisodeOfCare", episode)
        form = {"resource_type": "EpisodeOfCare", "resource_id": episode, "version": str(before.version_id),
                "to": to, "csrf": CSRF}  # fmt: skip
        seq = place.last_seq()
        response = place.page(cell.user, "POST", "/caseload/move", data=form)
        after = place.store.read(SYSTEM, "EpisodeOfCare", episode)
        moved = (after.content or {}).get("careManager", {}).get("reference") == to
        # the open episode is itself a relationship with the person (access/relationships.py), related or not; an
        # objection hides their record, which another organisation keeps
        if holds(cell.role, ALLOCATE) and not cell.objected:
            expect(response.status_code == 303, f"status {response.status_code}, expected 303")
            expect(moved, "the episode did not move")
            audited(expect, place.audit_since(seq), cell.user, {"update"}, "success", cell.subject.patient_id)
        else:
            expect(response.status_code == 403, f"status {response.status_code}, expected 403")
            expect(after.version_id == before.version_id and not moved, "changed by a refused move")
        no_leak(expect, cell.user, response.text)
        closed = {**(after.content or {}), "status": "finished"}
        closed["meta"] = {k: v for k, v in closed["meta"].items() if k in ("source", "tag")}
        web_place.load(place.store, [closed])  # its relationship ends before the next route's cells
