"""Governance pages: a resident's 'who has looked at my record', the IG console (break-glass reviews, unusual
access and the audit entries behind it, subject access requests), and the break-glass form a professional sees
when a record is not available to them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Form
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from joinedup.access.audit.trail import AuditEntry, now_micros
from joinedup.access.capabilities import Capability
from joinedup.access.permissions import AUDIT_REVIEW, BREAK_GLASS_REVIEW, OWN_ACCESS_LOG_READ, SUBJECT_ACCESS_ASSEMBLE
from joinedup.access.roles import catalogue
from joinedup.fhir.errors import FhirError, Forbidden, InvalidRequest, NotFound

from ..csrf import csrf_ok, csrf_token
from ..session import renew, require_user
from ..templating import render
from .common import handle, see_other

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
    "export-included": "included your records in a bulk export",
    "break-glass": "opened your record in an emergency without a care relationship",
    "subject-access": "gathered your record and this log for a subject access request",
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
    caller = handle(request, who)
    if not who.is_resident or not caller.may(OWN_ACCESS_LOG_READ):
        return render(request, "error.html", 403, title="This page is for residents",
                      message="It shows a resident who has looked at their own record.")  # fmt: skip
    entries = await run_in_threadpool(caller.own_access_log, 500)
    return render(request, "access_log.html", lines=_lines(entries, who.user))


@router.post("/record/{patient_id}/break-glass", include_in_schema=False)
async def open_with_break_glass(
    request: Request, patient_id: str, reason: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = ""
) -> Response:
    who = require_user(request)
    if not csrf_ok(request, csrf):
        return render(request, "error.html", 403, title="Your session expired", message="Go back and try again.")
    try:
        await run_in_threadpool(handle(request, who).open_break_glass, patient_id, reason)
    except FhirError as error:
        return render(request, "break_glass.html", error.status, patient_id=patient_id, error=error.message,
                      csrf=csrf_token(request), hours=handle(request, who).break_glass_hours)  # fmt: skip
    renew(request)  # a privilege change: the session identifier seen before it is worth nothing after
    return see_other(f"/record/{patient_id}")


@router.get("/ig/break-glass", include_in_schema=False)
async def break_glass_reviews(request: Request) -> Response:
    who = require_user(request)
    caller = handle(request, who)
    if not caller.may(BREAK_GLASS_REVIEW):
        return render(request, "error.html", 403, title="You cannot see this page",
                      message="Break-glass reviews are for information governance managers.")  # fmt: skip
    grants = await run_in_threadpool(caller.break_glass_awaiting_review)
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
        await run_in_threadpool(handle(request, who).review_break_glass, grant_id, note)
    except FhirError as error:
        return render(
            request, "error.html", error.status, title="This review could not be saved", message=error.message
        )
    return see_other("/ig/break-glass")


# --- the IG console: unusual access, the audit entries behind it, subject access requests -----------------------
DAY_MICROS = 86_400_000_000
MAX_DAYS = 366


def _refused(request: Request, what: str) -> Response:
    return render(request, "error.html", 403, title="You cannot see this page",
                  message=f"{what} is for information governance managers.")  # fmt: skip


def _may(request: Request, capability: Capability) -> bool:
    return handle(request, require_user(request)).may(capability)


@router.get("/ig/unusual-access", include_in_schema=False)
async def unusual_access_page(request: Request, days: str = "30") -> Response:
    caller = handle(request, require_user(request))
    if not caller.may(AUDIT_REVIEW):
        return _refused(request, "Unusual access")
    period = int(days) if days.isdigit() and 0 < int(days) <= MAX_DAYS else 30
    end = now_micros()
    findings = await run_in_threadpool(caller.unusual_access, end - period * DAY_MICROS, end + 1)
    sections = []
    for rule, title, text in RULES:
        rows = [
            {"user": f.user, "role": _role_label(f.role), "summary": f.summary, "entries": len(f.seqs),
             "evidence": "/ig/audit?" + urlencode([("seq", s) for s in f.seqs[:200]])}
            for f in findings if f.rule == rule
        ]  # fmt: skip
        sections.append({"id": rule, "title": title, "rule": text, "rows": rows})
    return render(request, "ig_unusual_access.html", sections=sections, days=period)


RULES = (
    ("same-surname-and-address", "Records of people who share the user's surname and address",
     "The user's own surname and home address (from their staff record) match the person's."),
    ("many-more-than-peers", "Many more records than their peers",
     "More different people's records opened than the upper fence of their role: the third quartile plus three "
     "times the interquartile range, among at least four users of the role."),
)  # fmt: skip


@router.get("/ig/audit", include_in_schema=False)
async def audit_entries_page(request: Request) -> Response:
    caller = handle(request, require_user(request))
    if not caller.may(AUDIT_REVIEW):
        return _refused(request, "The audit trail")
    seqs = [int(v) for v in request.query_params.getlist("seq") if v.isdigit()][:500]
    entries = await run_in_threadpool(caller.audit_entries, seqs)
    rows = [
        {"seq": e.seq, "when": _when(e.recorded), "user": e.user, "role": _role_label(e.role),
         "organisation": e.organisation or "", "action": e.action, "outcome": e.outcome,
         "patients": ", ".join(f"Patient/{p}" for p in e.patients[:20]), "what": ", ".join(e.what[:5])}
        for e in entries
    ]  # fmt: skip
    return render(request, "ig_audit_entries.html", rows=rows)


@router.get("/ig/subject-access", include_in_schema=False)
async def subject_access_form(request: Request) -> Response:
    if not _may(request, SUBJECT_ACCESS_ASSEMBLE):
        return _refused(request, "Assembling subject access requests")
    return render(request, "ig_subject_access.html", csrf=csrf_token(request), patient_id="", error=None)


@router.post("/ig/subject-access", include_in_schema=False)
async def subject_access_download(
    request: Request, patient_id: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = ""
) -> Response:
    who = require_user(request)
    if not csrf_ok(request, csrf):
        return render(request, "error.html", 403, title="Your session expired", message="Go back and try again.")
    wanted = patient_id.strip()
    try:
        caller = handle(request, who)
        if not wanted and caller.may(SUBJECT_ACCESS_ASSEMBLE):
            raise InvalidRequest("Enter the person's record identifier", location="patient_id")
        # the role is checked inside, so that a refused attempt is audited against the person too
        bundle = await run_in_threadpool(caller.subject_access, wanted)
    except Forbidden:
        return _refused(request, "Assembling subject access requests")
    except FhirError as error:
        message = "There is no record with this identifier" if isinstance(error, NotFound) else error.message
        return render(request, "ig_subject_access.html", error.status, csrf=csrf_token(request),
                      patient_id=wanted, error=message)  # fmt: skip
    filename = f"subject-access-{''.join(c for c in wanted if c.isalnum() or c in '-.')[:64]}.json"
    return Response(
        orjson.dumps(bundle),
        media_type="application/fhir+json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
