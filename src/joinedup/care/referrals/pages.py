"""The referral pages (decision 0501): refer from a person's record, a referral with its every step and the actions
the viewer may take now, "Referrals I sent", and the team's work list. Everything reads and writes through the
signed-in caller's handle; every form carries the session's CSRF token (the middleware checks it). A refused or
stale form shows what is wrong on the page (an error summary) with a 4xx status, and changes nothing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from joinedup.access.capabilities import Capability
from joinedup.access.handle import CallerHandle
from joinedup.care.permissions import REFERRAL_RECEIVE, REFERRAL_SEND
from joinedup.care.vocabulary import vocabulary
from joinedup.fhir.errors import Conflict, FhirError, Forbidden, InvalidRequest, NotFound
from joinedup.web.routes.common import handle, see_other
from joinedup.web.session import SignedIn, require_user
from joinedup.web.templating import render

from . import parties, service, views
from .model import NewReferral, Referral
from .steps import ACTIONS, step_label

router = APIRouter()

FIELD_OF = {"performer": "service", "ServiceRequest.performer": "service"}  # a service error's form field


def _refused(request: Request, title: str, message: str, status: int) -> Response:
    return render(request, "error.html", status, title=title, message=message)


def _capable(request: Request, who: SignedIn, *capabilities: Capability) -> CallerHandle | None:
    caller = handle(request, who)
    return caller if any(caller.may(c) for c in capabilities) else None


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


# --- refer, from a person's record -----------------------------------------------------------------------------------
def _refer_page(caller: CallerHandle, patient_id: str) -> dict[str, Any]:
    patient = caller.read("Patient", patient_id).content or {}
    return {"person": parties.display_name_of_patient(patient), "services": views.services_to_refer_to(caller),
            "urgencies": list(vocabulary().table("urgencies").values())}  # fmt: skip


@router.get("/record/{patient_id}/refer", include_in_schema=False)
async def refer_form(request: Request, patient_id: str) -> Response:
    who = require_user(request)
    caller = _capable(request, who, REFERRAL_SEND)
    if caller is None:
        return _refused(request, "You cannot refer", "Your role does not send referrals.", 403)
    try:
        page = await run_in_threadpool(_refer_page, caller, patient_id)
    except NotFound:
        return _refused(request, "Record not found", "There is no record you can see with this identifier.", 404)
    return render(request, "care/referrals/refer.html", patient_id=patient_id, errors={}, values={}, **page)


def _refer_errors(values: dict[str, str], services: list[tuple[str, str]]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if values.get("service", "") not in {ref for ref, _ in services}:
        errors["service"] = "Choose a service from the list"
    if not values.get("what", "").strip():
        errors["what"] = "Enter what you are asking the service to do"
    if not values.get("why", "").strip():
        errors["why"] = "Enter why you are referring"
    if values.get("urgency", "") not in vocabulary().table("urgencies"):
        errors["urgency"] = "Choose how urgent the referral is"
    for name in ("what", "why", "note"):
        if len(values.get(name, "")) > service.MAX_TEXT:
            errors[name] = f"Write no more than {service.MAX_TEXT} characters"
    return errors


@router.post("/record/{patient_id}/refer", include_in_schema=False)
async def refer(request: Request, patient_id: str) -> Response:
    who = require_user(request)
    caller = _capable(request, who, REFERRAL_SEND)
    if caller is None:
        return _refused(request, "You cannot refer", "Your role does not send referrals.", 403)
    values = await _form(request)
    try:
        page = await run_in_threadpool(_refer_page, caller, patient_id)
    except NotFound:
        return _refused(request, "Record not found", "There is no record you can see with this identifier.", 404)
    errors = _refer_errors(values, page["services"])
    if not errors:
        new = NewReferral(patient=f"Patient/{patient_id}", service=values["service"], what=values["what"].strip(),
                          reason=values["why"].strip(), urgency=values["urgency"], requester=who.user,
                          requester_display=who.name, note=values.get("note", "").strip() or None)  # fmt: skip
        try:
            made = await run_in_threadpool(service.open_referral, caller, new)
        except InvalidRequest as problem:
            errors[FIELD_OF.get(problem.location or "", "service")] = problem.message
        except Forbidden:
            return _refused(request, "You cannot refer this person",
                            "You need a care relationship with the person to refer them.", 403)  # fmt: skip
        else:
            return see_other(f"/referrals/{made.task_id}")
    return render(request, "care/referrals/refer.html", 400, patient_id=patient_id, errors=errors, values=values,
                  **page)  # fmt: skip


# --- the lists (declared before /referrals/{task_id}, whose pattern would take them) ------------------------------
@router.get("/referrals/sent", include_in_schema=False)
async def sent(request: Request) -> Response:
    who = require_user(request)
    caller = _capable(request, who, REFERRAL_SEND)
    if caller is None:
        return _refused(request, "You cannot see this page", "Your role does not send referrals.", 403)

    def build() -> list[views.Row]:
        return views.rows(service.sent_by(caller, who.user), views.Names(caller))

    return render(request, "care/referrals/sent.html", rows=await run_in_threadpool(build))


@router.get("/referrals/received", include_in_schema=False)
async def received(request: Request) -> Response:
    who = require_user(request)
    caller = _capable(request, who, REFERRAL_RECEIVE)
    if caller is None:
        return _refused(request, "You cannot see this page", "Your role does not receive referrals.", 403)

    def build() -> tuple[list[str], list[views.Row]]:
        names = views.Names(caller)
        teams = parties.my_teams(caller)
        if teams:
            referrals = service.for_team(caller, teams)
        elif who.organisation:
            referrals = service.received_by(caller, who.organisation)
        else:
            referrals = []
        return [names(t) for t in teams], views.rows(referrals, names)

    teams, rows = await run_in_threadpool(build)
    return render(request, "care/referrals/received.html", teams=teams, rows=rows)


# --- one referral ---------------------------------------------------------------------------------------------------
def _referral_page(caller: CallerHandle, task_id: str) -> dict[str, Any]:
    referral = service.read_referral(caller, task_id)
    names = views.Names(caller)
    names.patients([referral])
    actions = service.actions_for(caller, referral)
    offered = {a.name for a in actions}
    return {
        "referral": referral,
        "names": names,
        "timeline": views.timeline(caller, referral, names),
        "actions": actions,
        "step": step_label(referral.step),
        "urgency": vocabulary().get("urgencies", referral.urgency).display,
        "due": views.day_text(referral.due),
        "sent": views.when_text(referral.authored),
        "decline_reasons": list(vocabulary().table("decline_reasons").values()),
        "services": [s for s in views.services_to_refer_to(caller) if s[0] != referral.service]
        if "redirect" in offered
        else [],
        "members": views.team_members(caller, referral.service, names) if "allocate" in offered else [],
    }


@router.get("/referrals/{task_id}", include_in_schema=False)
async def referral_page(request: Request, task_id: str) -> Response:
    who = require_user(request)
    caller = _capable(request, who, REFERRAL_SEND, REFERRAL_RECEIVE)
    if caller is None:
        return _refused(request, "You cannot see referrals", "Your role does not send or receive referrals.", 403)
    try:
        page = await run_in_threadpool(_referral_page, caller, task_id)
    except NotFound:
        return _refused(request, "Referral not found", "There is no referral you can see with this identifier.", 404)
    return render(request, "care/referrals/referral.html", error=None, error_field=None, action_name=None, **page)


def _step_input(values: dict[str, str]) -> service.StepInput:
    try:
        when = views.parse_local(values.get("day", ""), values.get("time", ""))
    except ValueError:
        raise InvalidRequest("Enter a real date and time, like 2026-03-02 and 14:30", location="when") from None
    return service.StepInput(text=values.get("text", ""), reason=values.get("reason", ""),
                             service=values.get("service", ""), worker=values.get("worker", ""), when=when)  # fmt: skip


def _version(values: dict[str, str]) -> int:
    text = values.get("version", "")
    if not text.isdigit():
        raise InvalidRequest("The form is missing the referral's version: open the referral again", location="version")
    return int(text)


@router.post("/referrals/{task_id}/{step}", include_in_schema=False)
async def take_step(request: Request, task_id: str, step: str) -> Response:
    who = require_user(request)
    action = ACTIONS.get(step)
    if action is None:
        return _refused(request, "Page not found", "There is no such step of a referral.", 404)
    caller = _capable(request, who, action.capability)
    if caller is None:
        return _refused(request, "You cannot do this", "Your role may not take this step of a referral.", 403)
    values = await _form(request)
    try:
        done: Referral = await run_in_threadpool(
            lambda: service.take(caller, task_id, _version(values), step, _step_input(values))
        )
    except NotFound:
        return _refused(request, "Referral not found", "There is no referral you can see with this identifier.", 404)
    except (InvalidRequest, Conflict, Forbidden) as problem:
        return await _with_error(request, caller, task_id, step, problem)
    if done.is_open:
        return see_other(f"/referrals/{task_id}")
    return see_other(f"/referrals/{task_id}" if await _still_visible(caller, task_id) else f"/referrals/closed/{step}")


async def _still_visible(caller: CallerHandle, task_id: str) -> bool:
    try:
        await run_in_threadpool(service.read_referral, caller, task_id)
    except NotFound:
        return False
    return True


async def _with_error(request: Request, caller: CallerHandle, task_id: str, step: str, problem: FhirError) -> Response:
    try:
        page = await run_in_threadpool(_referral_page, caller, task_id)
    except NotFound:
        return _refused(request, "Referral not found", "There is no referral you can see with this identifier.", 404)
    field = problem.location if isinstance(problem, InvalidRequest) else None
    return render(request, "care/referrals/referral.html", problem.status, error=problem.message, error_field=field,
                  action_name=step, **page)  # fmt: skip


@router.get("/referrals/closed/{step}", include_in_schema=False)
async def closed(request: Request, step: str) -> Response:
    """Where a receiver lands after closing a referral that has left their team (and their relationship)."""
    who = require_user(request)
    if _capable(request, who, REFERRAL_SEND, REFERRAL_RECEIVE) is None:
        return _refused(request, "You cannot see referrals", "Your role does not send or receive referrals.", 403)
    action = ACTIONS.get(step)
    if action is None:
        return _refused(request, "Page not found", "There is no such step of a referral.", 404)
    return render(request, "care/referrals/closed.html", step=step_label(action.leads_to))
