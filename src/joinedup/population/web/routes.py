"""Population health pages for analysts and neighbourhood MDGs: levels by age, risk, trends, shares, case finding.

Who may see them is a capability the caller's handle checks: `secondary-use.read` (analysts, declared by access) or
`caseload.manage` (MDG coordinators, declared by care). Every figure is an aggregate except the case-finding list,
which names people only by their pseudonymised person key.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter
from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.templating import Jinja2Templates

from joinedup.access.permissions import SECONDARY_USE_READ
from joinedup.care.permissions import CASELOAD_MANAGE
from joinedup.web.csrf import csrf_token
from joinedup.web.role_pages import pages_for
from joinedup.web.routes.common import handle, settings
from joinedup.web.session import SignedIn, require_user
from joinedup.web.templating import SERVICE_NAME, is_htmx

from ..case_finding import case_finding_csv
from . import disclosure, results
from .charts import overview_charts, shares_chart, trends_chart

router = APIRouter()
CAPABILITIES = (SECONDARY_USE_READ, CASELOAD_MANAGE)


def _environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader(
            [PackageLoader("joinedup.population.web", "templates"), PackageLoader("joinedup.web", "templates")]
        ),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["service_name"] = SERVICE_NAME
    env.globals["pages_for"] = pages_for  # the header's menu, as on every other page
    env.filters["shown"] = disclosure.shown
    env.filters["shown_share"] = disclosure.shown_share
    env.tests["suppressed"] = disclosure.suppressed
    return env


_templates = Jinja2Templates(env=_environment())


def _render(request: Request, name: str, who: SignedIn, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.update(user=who, htmx=is_htmx(request), csrf=csrf_token(request))  # csrf: the header's sign-out form
    response = _templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _may_see(request: Request, who: SignedIn) -> bool:
    caller = handle(request, who)
    return any(caller.may(c) for c in CAPABILITIES)


def _refused(request: Request, who: SignedIn) -> Response:
    return _render(request, "error.html", who, status_code=403, title="You cannot see population health figures",
                   message="Your role does not give access to population health analytics.")  # fmt: skip


def _missing(request: Request, who: SignedIn) -> Response:
    return _render(request, "error.html", who, status_code=503, title="Population figures are not ready",
                   message="The population refresh has not been run yet. Ask an administrator to run "
                           "'joinedup population refresh'.")  # fmt: skip


async def _page(request: Request, name: str, gather: Any) -> Response:
    """A page from `gather(con)` (run off the event loop), or the refusal or not-ready page."""
    who = require_user(request)
    if not _may_see(request, who):
        return _refused(request, who)

    def read() -> dict[str, Any]:
        with results.results(settings(request).population_db) as con:
            found: dict[str, Any] = gather(con)
            return found

    try:
        context = await run_in_threadpool(read)
    except results.ResultsMissing:
        return _missing(request, who)
    if "not_found" in context:
        return _render(request, "error.html", who, status_code=404, title="Not found", message=context["not_found"])
    return _render(request, name, who, **context)


@router.get("/population", include_in_schema=False)
async def overview(request: Request) -> Response:
    return await _page(request, "population/overview.html", overview_charts)


@router.get("/population/shares", include_in_schema=False)
async def shares(request: Request, by: str = "neighbourhood") -> Response:
    chosen = by if by in ("neighbourhood", "practice") else "neighbourhood"
    return await _page(request, "population/shares.html", lambda con: shares_chart(con, chosen))


@router.get("/population/trends", include_in_schema=False)
async def trend_page(request: Request, by: str = "place", group: str = "") -> Response:
    return await _page(request, "population/trends.html", lambda con: trends_chart(con, by, group))


@router.get("/population/case-finding", include_in_schema=False)
async def case_finding(request: Request, neighbourhood: str = "") -> Response:
    def gather(con: Any) -> dict[str, Any]:
        names = results.neighbourhoods(con)
        chosen = neighbourhood or (names[0] if names else "")
        if names and chosen not in names:
            return {"not_found": "There is no case-finding list for this neighbourhood."}
        listed = results.case_finding_list(con, chosen) if chosen else []
        return {"neighbourhoods": names, "chosen": chosen, "listed": listed, "when": results.index_date(con)}

    return await _page(request, "population/case_finding.html", gather)


@router.get("/population/case-finding.csv", include_in_schema=False)
async def case_finding_download(request: Request, neighbourhood: str = "") -> Response:
    who = require_user(request)
    if not _may_see(request, who):
        return _refused(request, who)

    def read() -> str:
        with results.results(settings(request).population_db) as con:
            return case_finding_csv(con, neighbourhood or None)

    try:
        text = await run_in_threadpool(read)
    except results.ResultsMissing:
        return _missing(request, who)
    name = "case-finding-" + (re.sub(r"[^A-Za-z0-9-]", "", neighbourhood) or "all") + ".csv"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
