"""The integrated record page, and its timeline alone when htmx asks for a filtered or further page."""

from __future__ import annotations

import time
from datetime import date

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from joinedup.access.permissions import BREAK_GLASS
from joinedup.care.permissions import TRIAGE
from joinedup.care.referrals.views import record_section
from joinedup.fhir.errors import Forbidden, NotFound

from ..csrf import csrf_token
from ..record import Record, record_for, timeline_for
from ..session import require_user
from ..templating import is_htmx, render
from ..timeline import TimelineFilter, page_of
from .common import handle

router = APIRouter()


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@router.get("/record/{patient_id}", include_in_schema=False)
async def record_page(
    request: Request,
    patient_id: str,
    organisation: str = "",
    kind: str = "",
    date_from: str = "",
    date_to: str = "",
    page: int = 1,
) -> Response:
    who = require_user(request)
    if who.is_resident and who.user != f"Patient/{patient_id}":
        return render(
            request,
            "error.html",
            status_code=403,
            title="You cannot see this record",
            message="As a resident you can see your own record.",
        )
    started = time.perf_counter()
    partial = is_htmx(request)
    try:
        record: Record | None = None
        if partial:
            entries = await run_in_threadpool(timeline_for, handle(request, who), [patient_id])
        else:
            record = await run_in_threadpool(record_for, handle(request, who), [patient_id])
            entries = record.timeline
    except NotFound:
        caller = handle(request, who)
        if caller.may(BREAK_GLASS):  # the same page whether or not the record exists
            hours = caller.break_glass_hours
            return render(request, "break_glass.html", status_code=404, patient_id=patient_id, error=None,
                          csrf=csrf_token(request), hours=hours)  # fmt: skip
        return render(
            request,
            "error.html",
            status_code=404,
            title="Record not found",
            message="There is no record with this identifier, or it has been removed.",
        )
    except Forbidden:
        return render(
            request,
            "error.html",
            status_code=403,
            title="You cannot see this record",
            message="Your role does not allow you to see this record.",
        )
    referrals = {} if partial else await run_in_threadpool(record_section, handle(request, who), patient_id)
    wanted = TimelineFilter(organisation, kind, _day(date_from), _day(date_to))
    timeline = page_of(entries, wanted, page)
    response = render(
        request,
        "partials/timeline_results.html" if partial else "record.html",
        record=record,
        timeline=timeline,
        wanted=wanted,
        filters={"organisation": organisation, "kind": kind, "date_from": date_from, "date_to": date_to},
        patient_id=patient_id,
        may_triage=handle(request, who).may(TRIAGE),  # reviews and closes vulnerable person flags
        **referrals,
        date_errors={
            k: "Enter a real date" for k, v in (("date_from", date_from), ("date_to", date_to)) if v and _day(v) is None
        },
    )
    response.headers["Server-Timing"] = f"record;dur={(time.perf_counter() - started) * 1000:.1f}"
    return response
