"""The MDG pages: my groups, a group (members, its case-finding list by name, agendas, open actions), the huddle page
(a one-screen summary per person on the agenda, actions), and the forms that change them (decision 0505).

Every read and write goes through the caller's handle; the service refuses non-members and other roles. A refusal
or a stale form gets a page saying what happened, with its 4xx status, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from joinedup.fhir.errors import Conflict, FhirError, InvalidRequest
from joinedup.population.case_finding import read_direct_care_candidates
from joinedup.web.routes.common import handle, see_other, settings, system
from joinedup.web.session import require_user
from joinedup.web.templating import render

from . import service, views

router = APIRouter()
TITLES = {
    403: "You cannot do this",
    404: "Not found",
    409: "This could not be done",
    400: "Check what you entered",
}


def _refused(request: Request, error: FhirError, back: str) -> Response:
    title = TITLES.get(error.status, "This could not be done")
    return render(request, "care/huddles/refused.html", error.status, title=title, message=error.message, back=back)


async def _show(request: Request, template: str, gather: Callable[[], Any], back: str = "/") -> Response:
    try:
        context = await run_in_threadpool(gather)
    except FhirError as error:
        return _refused(request, error, back)
    if not isinstance(context, dict):
        context = {"page": context}
    return render(request, template, **context)


async def _change(request: Request, work: Callable[[], Any], done: str, back: str) -> Response:
    try:
        await run_in_threadpool(work)
    except FhirError as error:
        return _refused(request, error, back)
    return see_other(done)


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _version(text: str) -> int:
    return int(text) if text.isdigit() else -1


# --- agendas first: /mdg/agendas/… is not a group ------------------------------------------------------------------
@router.get("/mdg/agendas/{list_id}", include_in_schema=False)
async def huddle(request: Request, list_id: str) -> Response:
    caller = handle(request, require_user(request))
    population_db = settings(request).population_db
    return await _show(request, "care/huddles/huddle.html", lambda: views.huddle_page(caller, list_id, population_db),
                       back="/mdg")  # fmt: skip


@router.post("/mdg/agendas/{list_id}/people", include_in_schema=False)
async def add_person(request: Request, list_id: str, person: Annotated[str, Form()] = "",
                     version: Annotated[str, Form()] = "") -> Response:  # fmt: skip
    caller = handle(request, require_user(request))
    page = f"/mdg/agendas/{list_id}"

    def work() -> None:
        service.add_person(caller, list_id, _version(version), views.records_for(caller, person))

    return await _change(request, work, page, page)


@router.post("/mdg/agendas/{list_id}/people/{patient_id}/remove", include_in_schema=False)
async def remove_person(request: Request, list_id: str, patient_id: str,
                        version: Annotated[str, Form()] = "") -> Response:  # fmt: skip
    caller = handle(request, require_user(request))
    page = f"/mdg/agendas/{list_id}"
    return await _change(request, lambda: service.remove_person(caller, list_id, _version(version), patient_id),
                         page, page)  # fmt: skip


@router.post("/mdg/agendas/{list_id}/actions", include_in_schema=False)
async def record_action(request: Request, list_id: str, patient_id: Annotated[str, Form()] = "",
                        description: Annotated[str, Form()] = "", owner: Annotated[str, Form()] = "",
                        due: Annotated[str, Form()] = "") -> Response:  # fmt: skip
    caller = handle(request, require_user(request))
    page = f"/mdg/agendas/{list_id}"

    def work() -> None:
        service.record_action(caller, list_id, patient_id, description, owner, _day(due))

    return await _change(request, work, f"{page}#person-{patient_id}", page)


@router.post("/mdg/agendas/{list_id}/actions/{task_id}/close", include_in_schema=False)
async def close_action(request: Request, list_id: str, task_id: str, version: Annotated[str, Form()] = "",
                       outcome: Annotated[str, Form()] = "",
                       note: Annotated[str, Form()] = "") -> Response:  # fmt: skip
    caller = handle(request, require_user(request))
    page = f"/mdg/agendas/{list_id}"
    return await _change(request, lambda: service.close_action(caller, task_id, _version(version), outcome, note),
                         page, page)  # fmt: skip


@router.post("/mdg/agendas/{list_id}/close", include_in_schema=False)
async def close_meeting(request: Request, list_id: str, version: Annotated[str, Form()] = "") -> Response:
    caller = handle(request, require_user(request))
    page = f"/mdg/agendas/{list_id}"
    return await _change(request, lambda: service.close_meeting(caller, list_id, _version(version)), page, page)


# --- groups -----------------------------------------------------------------------------------------------------
@router.get("/mdg", include_in_schema=False)
async def my_groups(request: Request) -> Response:
    caller = handle(request, require_user(request))
    return await _show(request, "care/huddles/groups.html", lambda: views.groups_page(caller))


@router.get("/mdg/{group_id}", include_in_schema=False)
async def group(request: Request, group_id: str) -> Response:
    caller = handle(request, require_user(request))
    return await _show(request, "care/huddles/group.html", lambda: views.group_page(caller, group_id), back="/mdg")


@router.post("/mdg/{group_id}/agendas", include_in_schema=False)
async def start_agenda(request: Request, group_id: str, title: Annotated[str, Form()] = "",
                       meeting: Annotated[str, Form()] = "", case_finding: Annotated[str, Form()] = "",
                       referrals: Annotated[str, Form()] = "") -> Response:  # fmt: skip
    caller = handle(request, require_user(request))
    back = f"/mdg/{group_id}"
    when = _day(meeting)
    if when is None:
        return _refused(request, InvalidRequest("Enter the meeting's date"), back)
    new = service.NewAgenda(title, when, case_finding == "yes", referrals == "yes")
    try:
        made = await run_in_threadpool(service.start_agenda, caller, group_id, new)
    except FhirError as error:
        return _refused(request, error, back)
    return see_other(f"/mdg/agendas/{made}")


@router.post("/mdg/{group_id}/case-finding", include_in_schema=False)
async def publish(request: Request, group_id: str) -> Response:
    """The coordinator publishes the list again from the latest population refresh (written as the system)."""
    caller = handle(request, require_user(request))
    population_db = settings(request).population_db
    back = f"/mdg/{group_id}"

    def candidates(neighbourhood: str) -> Any:
        try:
            return read_direct_care_candidates(population_db, neighbourhood)
        except FileNotFoundError:
            raise Conflict("The population refresh has not been run yet: there is no list to publish") from None

    sys = system(request, service.PUBLICATION_PURPOSE)
    return await _change(request, lambda: service.publish_now(caller, sys, group_id, candidates), back, back)
