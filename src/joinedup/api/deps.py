"""What each request needs: the gate, the settings, and who is asking."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from joinedup.access.context import AccessContext
from joinedup.access.gate import AccessGate
from joinedup.fhir.errors import Forbidden
from joinedup.settings import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    gate: AccessGate


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def prefer(request: Request) -> dict[str, str]:
    """The Prefer header as a dict: {'return': 'minimal', 'handling': 'strict'}."""
    found: dict[str, str] = {}
    for part in request.headers.get("prefer", "").split(";"):
        for item in part.split(","):
            name, _, value = item.strip().partition("=")
            if name:
                found[name.lower()] = value.strip().strip('"')
    return found


def access_context(request: Request) -> AccessContext:
    """Who is asking. Sign-in and tokens arrive with the information governance issue; until then only a
    development deployment answers, as a development administrator, and production refuses."""
    settings = services(request).settings
    if settings.environment == "production":
        raise Forbidden("Sign-in is required")
    client = request.client.host if request.client else None
    strict = prefer(request).get("handling") == "strict"
    return AccessContext(
        user="development",
        role="administrator",
        organisation=None,
        purpose="treatment",
        client_address=client,
        strict_handling=strict,
    )
