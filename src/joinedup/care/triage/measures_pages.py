"""The single point of access's measures page for its manager: a chart and a table of the same figures."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from joinedup.access.handle import CallerHandle
from joinedup.care.permissions import SPA_MEASURES_READ
from joinedup.care.vocabulary import vocabulary
from joinedup.population.web.svg import Series, stacked_bars
from joinedup.web.routes.common import handle, system
from joinedup.web.session import SignedIn, require_user
from joinedup.web.templating import render

from .common import router, spa_refs
from .measures import Month, spa_measures

PURPOSE = "care-triage-measures"


def _hours(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _month_label(month: str) -> str:
    year, number = month.split("-")
    names = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return f"{names[int(number) - 1]} {year}"


def _chart(months: list[Month]) -> Markup:
    routes = list(vocabulary().table("contact_routes").values())
    series = [Series(r.display, tuple(float(m.by_route.get(r.code, 0)) for m in months)) for r in routes]
    total = sum(m.contacts for m in months)
    return stacked_bars(
        [_month_label(m.month) for m in months],
        series,
        "Contacts by route, per month",
        f"{total} contacts over {len(months)} months, each month's bar split by how the contacts came in. "
        "The table below gives the same figures.",
        "spa-routes",
    )


def _page(caller: CallerHandle, request: Request, who: SignedIn) -> dict[str, Any]:
    months = spa_measures(caller, system(request, PURPOSE), spa_refs(caller, who))
    words = vocabulary()
    return {
        "months": [
            {
                "label": _month_label(m.month),
                "contacts": m.contacts,
                "by_route": m.by_route,
                "decided": m.decided,
                "resolved": m.resolved_at_first_contact,
                "share": "–" if m.resolved_share is None else f"{100 * m.resolved_share:.0f}%",
                "times": {
                    u: (t.decided, _hours(t.median_hours), _hours(t.centile_90_hours)) for u, t in m.times.items()
                },
            }
            for m in months
        ],
        "routes": list(words.table("contact_routes").values()),
        "urgencies": list(words.table("urgencies").values()),
        "chart": _chart(months) if months else None,
    }


@router.get("/spa/measures", include_in_schema=False)
async def measures_page(request: Request) -> Response:
    who = require_user(request)
    caller = handle(request, who)
    if not caller.may(SPA_MEASURES_READ):
        message = "The single point of access's measures are for its managers and triage staff."
        return render(request, "error.html", 403, title="You cannot see this page", message=message)
    shown = await run_in_threadpool(_page, caller, request, who)
    return render(request, "care/triage/measures.html", **shown)
