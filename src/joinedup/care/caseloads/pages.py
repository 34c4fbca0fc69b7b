"""The team manager's pages (capability caseload.allocate): each worker's load and the team's people
(GET /caseload/team), and moving a person or a task from one worker to another (POST /caseload/move)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from joinedup.access.handle import CallerHandle
from joinedup.care.permissions import CASELOAD_ALLOCATE
from joinedup.fhir.errors import FhirError, InvalidRequest
from joinedup.web.csrf import csrf_ok
from joinedup.web.patient_rows import row_for
from joinedup.web.routes.common import handle, see_other
from joinedup.web.session import SignedIn, require_user
from joinedup.web.templating import render

from . import service
from .chart import load_chart
from .model import WorkList
from .team import TeamView, move, team_view

router = APIRouter()
MOVED = {"EpisodeOfCare": "The person was moved to their new worker.", "Task": "The task was moved to its new worker."}


def _refused(request: Request) -> Response:
    return render(request, "error.html", 403, title="You cannot see this page",
                  message="Moving work between a team's workers is for team managers.")  # fmt: skip


def _view(caller: CallerHandle, who: SignedIn) -> TeamView:
    return team_view(caller, service.me(caller, who.user, who.organisation), datetime.now(UTC))


def _people(work: WorkList) -> list[dict[str, object]]:
    return [{"row": row_for(p.patient, {}), "items": p.items} for p in work.rows]


def _page(request: Request, view: TeamView, status: int = 200, error: str | None = None,
          done: str | None = None) -> Response:  # fmt: skip
    return render(request, "care/caseloads/team.html", status, view=view, chart=load_chart(view.loads),
                  people=_people(view.people), unallocated=_people(view.unallocated), error=error,
                  done=done)  # fmt: skip


@router.get("/caseload/team", include_in_schema=False)
async def team_page(request: Request, moved: str = "") -> Response:
    who = require_user(request)
    caller = handle(request, who)
    if not caller.may(CASELOAD_ALLOCATE):
        return _refused(request)
    view = await run_in_threadpool(_view, caller, who)
    return _page(request, view, done=MOVED.get(moved))


@router.post("/caseload/move", include_in_schema=False)
async def move_work(
    request: Request,
    resource_type: Annotated[str, Form()] = "",
    resource_id: Annotated[str, Form()] = "",
    version: Annotated[str, Form()] = "",
    to: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    who = require_user(request)
    if not csrf_ok(request, csrf):
        return render(request, "error.html", 403, title="Your session expired", message="Go back and try again.")
    caller = handle(request, who)
    if not caller.may(CASELOAD_ALLOCATE):
        return _refused(request)
    me = service.me(caller, who.user, who.organisation)
    try:
        if not version.isdigit():
            raise InvalidRequest("The form did not say which version of the record it showed: reload the page")
        await run_in_threadpool(move, caller, me, resource_type, resource_id, int(version), to, datetime.now(UTC))
    except FhirError as error:
        view = await run_in_threadpool(_view, caller, who)
        return _page(request, view, error.status, error=error.message)
    return see_other(f"/caseload/team?moved={resource_type}")
