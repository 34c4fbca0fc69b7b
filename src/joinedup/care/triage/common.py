"""What the single point of access's pages share: the router (care/install.py includes it through pages.py), the
refusal page, the caller's single points of access and people's names."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from joinedup.access.handle import CallerHandle
from joinedup.fhir.search_request import parse_search
from joinedup.web.fhir_display import human_name
from joinedup.web.session import SignedIn
from joinedup.web.templating import render

from . import service

router = APIRouter()
Resource = dict[str, Any]


def refused(request: Request) -> Response:
    return render(request, "error.html", 403, title="You cannot see this page",
                  message="The single point of access's pages are for its triage staff.")  # fmt: skip


def names_of(caller: CallerHandle, patients: list[str]) -> dict[str, str]:
    """'Patient/<id>' → the person's name, for those the caller may see (one search)."""
    ids = sorted({p.split("/", 1)[1] for p in patients if p})
    if not ids:
        return {}
    page = caller.search(parse_search("Patient", [("_id", ",".join(ids)), ("_count", str(len(ids)))]))
    return {f"Patient/{p['id']}": human_name(p.get("name")) for p in page.matches}


def spa_refs(caller: CallerHandle, who: SignedIn) -> list[str]:
    return [f"HealthcareService/{s['id']}" for s in service.spa_services(caller, who.organisation)]
