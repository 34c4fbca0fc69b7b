"""Governance pages: a resident's 'who has looked at my record', the IG manager's break-glass reviews, and the
break-glass form a professional sees when a record is not available to them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from joinedup.access.audit.trail import AuditEntry
from joinedup.access.roles import catalogue
from joinedup.fhir.errors import FhirError

from ..csrf import csrf_ok, csrf_token
from ..session import require_user
from ..templating import render
from .common import gate, see_other

router = APIRouter()

PLAIN_ACTIONS = {
    "read": "looked at part of your record",
    "vread": "looked at an earlier version of part of your record",
    "search": "found entries in your record",
    "everything": "opened your record",
    "history": "looked at changes to your record",
    "create": "added to your record",
    "update": "changed part of your record",
    "delete": "removed part of your record",
    "export": "exported records including yours",
    "break-glass": "opened your record in an emergency without a care relationship",
}


def _when(micros: int) -> str:
    moment = datetime.fromtimestamp(micros / 1_000_000, tz=UTC)
    return f"{moment.day} {moment:%B %Y} at {moment:%H:%M}"


def _role_label(name: str | None) -> str:
    cat = catalogue()
    return cat.get(name).label if name and cat.known(name) else "System"


def _lines(entries: list[AuditEntry], own: str) -> list[dict[str, str]]:
    lines = []
    for entry in entries:
        if entry.user == own or entry.outcome != "success" or entry.action not in PLAIN_ACTIONS:
            continue  # their own looks are not news to them
        lines.append(
            {
                "when": _when(entry.recorded),
                "who": _role_label(entry.role),
                "organisation": entry.organisation or "",
                "what": PLAIN_ACTIONS[entry.action],
                "reason": str(entry.detail.get("reason", "")),
                "emergency": "yes" if entry.action == "break-glass" else "",
            }
        )
    return lines


@router.get("/my-access-log", include_in_schema=False)
async def my_access_log(request: Request) -> Response:
    who = require_user(request)
    if not who.is_resident:
        return render(request, "error.html", 403, title="This page is for residents",
                      message="It shows a resident who has looked at their own record.")  # fmt: skip
    patient_id = who.user.split("/", 1)[1]
    entries = await run_in_threadpool(gate(request).audit.about_patient, patient_id, 500)
    return render(request, "access_log.html", lines=_lines(entries, who.user))


@router.post("/record/{patient_id}/break-glass", include_in_schema=False)
async def open_with_break_glass(
    request: Request, patient_id: str, reason: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = ""
) -> Response:
    who = require_user(request)
    if not csrf_ok(request, csrf):
        return render(request, "error.html", 403, title="Your session expired", message="Go back and try again.")
    try:
        await run_in_threadpool(gate(request).break_glass.open, who.access_context(request), patient_id, reason)
    except FhirError as error:
        return render(request, "break_glass.html", error.status, patient_id=patient_id, error=error.message,
                      csrf=csrf_token(request), hours=_hours(request))  # fmt: skip
    return see_other(f"/record/{patient_id}")


def _hours(request: Request) -> float:
    return gate(request).break_glass.duration_micros / 3_600_000_000


@router.get("/ig/break-glass", include_in_schema=False)
async def break_glass_reviews(request: Request) -> Response:
    who = require_user(request)
    if not catalogue().get(who.role).may("break-glass.review"):
        return render(request, "error.html", 403, title="You cannot see this page",
                      message="Break-glass reviews are for information governance managers.")  # fmt: skip
    grants = await run_in_threadpool(gate(request).break_glass.awaiting_review)
    rows = [
        {"id": g.grant_id, "when": _when(g.started), "who": g.user_ref, "role": _role_label(g.role),
         "organisation": g.organisation or "", "patient": g.patient_id, "reason": g.reason}
        for g in grants
    ]  # fmt: skip
    return render(request, "ig_break_glass.html", rows=rows, csrf=csrf_token(request))


@router.post("/ig/break-glass/{grant_id}/review", include_in_schema=False)
async def review_break_glass(
    request: Request, grant_id: str, note: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = ""
) -> Response:
    who = require_user(request)
    if not csrf_ok(request, csrf):
        return render(request, "error.html", 403, title="Your session expired", message="Go back and try again.")
    try:
        await run_in_threadpool(gate(request).break_glass.review, who.access_context(request), grant_id, note)
    except FhirError as error:
        return render(
            request, "error.html", error.status, title="This review could not be saved", message=error.message
        )
    return see_other("/ig/break-glass")
