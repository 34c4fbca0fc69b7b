"""The single point of access's pages: the triage queue, a contact and its decision, identifying the person, the
vulnerable person flag. Intake is in intake_pages.py, the measures in measures_pages.py (all on this router)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Depends, Form
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from joinedup.access.handle import CallerHandle
from joinedup.care.permissions import TRIAGE
from joinedup.care.vocabulary import vocabulary
from joinedup.fhir.errors import Conflict, FhirError, Forbidden, NotFound
from joinedup.web.csrf import csrf_token
from joinedup.web.person_search import SearchForm, criteria, trace
from joinedup.web.routes.common import handle, see_other
from joinedup.web.session import SignedIn, require_user
from joinedup.web.templating import render

from . import flags as flag_service

# The intake and measures pages first: "/spa/contacts/new" must be routed before "/spa/contacts/{task_id}".
from . import intake_pages, measures_pages, service  # noqa: F401  (their routes join the shared router)
from .common import names_of, refused, router, spa_refs
from .views import view_of


def _queue_page(caller: CallerHandle, who: SignedIn) -> dict[str, Any]:
    now = datetime.now(UTC)
    contacts = service.queue(caller, spa_refs(caller, who), now)
    names = names_of(caller, [c.patient or "" for c in contacts])
    views = [view_of(c, names.get(c.patient or ""), now) for c in contacts]
    words = vocabulary()
    clocks = [
        {"code": u.code, "label": u.display, "hours": u.extra["clock_hours"],
         "waiting": sum(1 for v in views if v.urgency == u.code),
         "overdue": sum(1 for v in views if v.urgency == u.code and v.overdue)}
        for u in words.table("urgencies").values()
    ]  # fmt: skip
    return {"contacts": views, "clocks": clocks, "overdue": sum(1 for v in views if v.overdue)}


@router.get("/spa", include_in_schema=False)
async def triage_queue(request: Request) -> Response:
    who = require_user(request)
    caller = handle(request, who)
    if not caller.may(TRIAGE):
        return refused(request)
    shown = await run_in_threadpool(_queue_page, caller, who)
    return render(request, "care/triage/queue.html", **shown)


# --- one contact -------------------------------------------------------------------------------------------------
def _contact_page(caller: CallerHandle, who: SignedIn, task_id: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    found = service.contact(caller, task_id)
    names = names_of(caller, [found.patient or ""])
    words = vocabulary()
    return {
        "contact": view_of(found, names.get(found.patient or ""), now),
        "outcomes": list(words.table("triage_outcomes").values()),
        "reasons": list(words.table("decline_reasons").values()),
        "services": service.services_to_refer_to(caller) if found.is_open else [],
        "teams": service.spa_teams(caller, who.organisation) if found.is_open else [],
        "review_default": flag_service.default_review(now.date()),
        "referral": _referral_text(caller, found.referral),
    }


def _referral_text(caller: CallerHandle, reference: str | None) -> str:
    """'<what> – to <service>' for the referral a decision made ('' when none, or when it cannot be read)."""
    kind, _, rid = (reference or "").partition("/")
    if kind != "ServiceRequest" or not rid:
        return ""
    try:
        request = caller.read("ServiceRequest", rid).content or {}
        performer = str(((request.get("performer") or [{}])[0]).get("reference") or "").partition("/")[2]
        to = (caller.read("HealthcareService", performer).content or {}).get("name") if performer else None
    except (NotFound, Forbidden):
        return "Made (no longer shown to you)"
    what = str((request.get("code") or {}).get("text") or "Referral")
    return f"{what} – to {to}" if to else what


async def _show_contact(request: Request, who: SignedIn, task_id: str, status: int = 200, **extra: Any) -> Response:
    caller = handle(request, who)
    try:
        shown = await run_in_threadpool(_contact_page, caller, who, task_id)
    except (NotFound, Forbidden):
        return render(request, "error.html", 404, title="Contact not found",
                      message="There is no contact with this identifier that you may see.")  # fmt: skip
    defaults: dict[str, Any] = {"error": None, "search": SearchForm(), "results": None, "form": {}}
    return render(request, "care/triage/contact.html", status, csrf=csrf_token(request),
                  **{**defaults, **shown, **extra})  # fmt: skip


@router.get("/spa/contacts/{task_id}", include_in_schema=False)
async def contact_page(request: Request, task_id: str) -> Response:
    who = require_user(request)
    if not handle(request, who).may(TRIAGE):
        return refused(request)
    return await _show_contact(request, who, task_id)


@router.post("/spa/contacts/{task_id}/decision", include_in_schema=False)
async def decide(
    request: Request,
    task_id: str,
    version: Annotated[str, Form()] = "",
    outcome: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    service_ref: Annotated[str, Form(alias="service")] = "",
    team: Annotated[str, Form()] = "",
    what: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    who = require_user(request)
    caller = handle(request, who)
    if not caller.may(TRIAGE):
        return refused(request)
    chosen = team if outcome == "accepted-by-spa" else service_ref
    decision = service.Decision(outcome, note, chosen, what, reason if outcome == "declined" else "", who.user)
    try:
        await run_in_threadpool(service.decide, caller, task_id, version, decision)
    except FhirError as error:
        form = {"outcome": outcome, "note": note, "service": service_ref, "team": team, "what": what, "reason": reason}
        return await _show_contact(request, who, task_id, error.status, error=service.refusal_message(error),
                                   form=form)  # fmt: skip
    return see_other(f"/spa/contacts/{task_id}")


@router.post("/spa/contacts/{task_id}/identify", include_in_schema=False)
async def identify(
    request: Request,
    task_id: str,
    search: Annotated[SearchForm, Depends(SearchForm.posted)],
    version: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "search",
    patient: Annotated[str, Form()] = "",
) -> Response:
    """Search for the person (action=search), then link the one chosen (action=link)."""
    who = require_user(request)
    caller = handle(request, who)
    if not caller.may(TRIAGE):
        return refused(request)
    if action == "link":
        try:
            await run_in_threadpool(service.identify, caller, task_id, version, f"Patient/{patient}" if patient else "")
        except FhirError as error:
            return await _show_contact(request, who, task_id, error.status, error=service.refusal_message(error),
                                       search=search)  # fmt: skip
        return see_other(f"/spa/contacts/{task_id}")
    wanted = criteria(search)
    results = None if wanted is None else await run_in_threadpool(trace, caller, TRIAGE, wanted)
    return await _show_contact(request, who, task_id, 400 if search.errors else 200, search=search, results=results)


# --- the vulnerable person protocol ------------------------------------------------------------------------------
def parse_day(day: str, month: str, year: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


@router.post("/spa/contacts/{task_id}/flag", include_in_schema=False)
async def raise_flag(
    request: Request,
    task_id: str,
    what: Annotated[str, Form()] = "",
    review_day: Annotated[str, Form()] = "",
    review_month: Annotated[str, Form()] = "",
    review_year: Annotated[str, Form()] = "",
) -> Response:
    who = require_user(request)
    caller = handle(request, who)
    if not caller.may(TRIAGE):
        return refused(request)
    review = parse_day(review_day, review_month, review_year)

    def raise_it() -> None:
        found = service.contact(caller, task_id)
        if not found.patient:
            raise Conflict("Identify the person before raising a flag: nothing was changed")
        flag_service.raise_flag(caller, found.patient, what, review, who.user)

    try:
        await run_in_threadpool(raise_it)
    except FhirError as error:
        form = {"flag_what": what, "review_day": review_day, "review_month": review_month, "review_year": review_year}
        return await _show_contact(request, who, task_id, error.status, error=service.refusal_message(error),
                                   form=form)  # fmt: skip
    return see_other(f"/spa/contacts/{task_id}?flagged=1")


@router.post("/spa/flags/{flag_id}", include_in_schema=False)
async def change_flag(
    request: Request,
    flag_id: str,
    version: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "",
    patient_id: Annotated[str, Form()] = "",
    review_day: Annotated[str, Form()] = "",
    review_month: Annotated[str, Form()] = "",
    review_year: Annotated[str, Form()] = "",
) -> Response:
    """Review (a new review date) or close a vulnerable person flag, from the record page."""
    who = require_user(request)
    caller = handle(request, who)
    if not caller.may(TRIAGE):
        return refused(request)
    review = parse_day(review_day, review_month, review_year)
    try:
        flag = await run_in_threadpool(flag_service.change_flag, caller, flag_id, version, action, review)
    except FhirError as error:
        return render(request, "error.html", error.status, title="The flag was not changed",
                      message=service.refusal_message(error))  # fmt: skip
    subject = str((flag.get("subject") or {}).get("reference") or "").partition("/")[2] or patient_id
    return see_other(f"/record/{subject}#vulnerable-person")
