"""Taking a contact: the intake form, with person search (the search page's own form and rules) to find who it is
about, or 'not yet identified' to link later."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Form
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from joinedup.care.permissions import TRIAGE
from joinedup.care.vocabulary import vocabulary
from joinedup.fhir.errors import FhirError
from joinedup.web.person_search import SearchForm, SearchResults, criteria, trace
from joinedup.web.routes.common import handle, see_other
from joinedup.web.session import require_user
from joinedup.web.templating import render

from . import service
from .common import refused, router, spa_refs
from .model import NewContact

ROUTES_AT_THE_DESK = ("phone", "web-form", "message")  # telecare alerts arrive through the API (hooks.py)
FROM_AT_THE_DESK = ("professional", "resident", "carer")


@dataclass
class IntakeForm:
    route: str = "phone"
    came_from: str = "professional"
    urgency: str = "routine"
    what: str = ""
    caller_name: str = ""
    patient: str = ""  # a Patient id chosen from the search results; "" = not yet identified
    errors: dict[str, str] = field(default_factory=dict)

    def check(self) -> None:
        words = vocabulary()
        if self.route not in ROUTES_AT_THE_DESK:
            self.errors["route"] = "Choose how the contact came in"
        if self.came_from not in FROM_AT_THE_DESK:
            self.errors["came_from"] = "Choose who the contact is from"
        if self.urgency not in words.table("urgencies"):
            self.errors["urgency"] = "Choose how urgent it is"
        if not self.what.strip():
            self.errors["what"] = "Enter what the contact is about"


def _choices() -> dict[str, Any]:
    words = vocabulary()
    return {
        "routes": [words.get("contact_routes", c) for c in ROUTES_AT_THE_DESK],
        "froms": [words.get("contact_from", c) for c in FROM_AT_THE_DESK],
        "urgencies": list(words.table("urgencies").values()),
    }


def _page(
    request: Request, form: IntakeForm, search: SearchForm, results: SearchResults | None, status: int = 200
) -> Response:
    return render(request, "care/triage/intake.html", status, form=form, search=search, results=results,
                  **_choices())  # fmt: skip


@router.get("/spa/contacts/new", include_in_schema=False)
async def intake_form(request: Request) -> Response:
    who = require_user(request)
    if not handle(request, who).may(TRIAGE):
        return refused(request)
    return _page(request, IntakeForm(), SearchForm(), None)


@router.post("/spa/contacts/new", include_in_schema=False)
async def take_contact(
    request: Request,
    search: Annotated[SearchForm, Depends(SearchForm.posted)],
    action: Annotated[str, Form()] = "save",
    route: Annotated[str, Form()] = "",
    came_from: Annotated[str, Form()] = "",
    urgency: Annotated[str, Form()] = "",
    what: Annotated[str, Form()] = "",
    caller_name: Annotated[str, Form()] = "",
    patient: Annotated[str, Form()] = "",
) -> Response:
    """action=search finds the person (the form keeps what was typed); action=save records the contact."""
    who = require_user(request)
    caller = handle(request, who)
    if not caller.may(TRIAGE):
        return refused(request)
    form = IntakeForm(route, came_from, urgency, what, caller_name, patient)
    if action == "search":
        wanted = criteria(search)
        results = None if wanted is None else await run_in_threadpool(trace, caller, TRIAGE, wanted)
        return _page(request, form, search, results, 400 if search.errors else 200)
    form.check()
    spas = await run_in_threadpool(spa_refs, caller, who)
    if not spas:
        form.errors["route"] = "Your organisation runs no single point of access to take contacts for"
    if form.errors:
        return _page(request, form, search, None, 400)
    new = NewContact(
        spa=spas[0],
        route=form.route,
        came_from=form.came_from,
        urgency=form.urgency,
        what=form.what.strip(),
        patient=f"Patient/{form.patient}" if form.patient else None,
        sender_display=form.caller_name.strip() or None,
        taken_by=who.user if who.user.startswith("PractitionerRole/") else None,
    )
    try:
        taken = await run_in_threadpool(service.take_contact, caller, new)
    except FhirError as error:
        form.errors["what"] = service.refusal_message(error)
        return _page(request, form, search, None, error.status)
    return see_other(f"/spa/contacts/{taken.task_id}")
