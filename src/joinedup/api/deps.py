"""What each request needs: the gate, the settings, and who is asking."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from joinedup.access.context import AccessContext
from joinedup.access.gate import AccessGate
from joinedup.access.handle import CallerHandle
from joinedup.access.roles import purpose_of
from joinedup.fhir.errors import Unauthorized
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
    """Who is asking: the bearer token's holder. Without a token, development and test deployments answer as the
    development system user (unrestricted, audited as such, decision 0303); production answers 401."""
    settings = services(request).settings
    client = request.client.host if request.client else None
    strict = prefer(request).get("handling") == "strict"
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        holder = services(request).gate.tokens.holder(authorization[7:].strip())
        if holder is None:
            raise Unauthorized("The bearer token is not valid or has expired")
        return AccessContext(
            user=holder.user_ref,
            role=holder.role,
            organisation=holder.organisation,
            purpose=purpose_of(holder.role),
            client_address=client,
            strict_handling=strict,
            scopes=holder.scopes,
            via="api",
        )
    if settings.environment == "production":
        raise Unauthorized("A bearer token is required")
    return AccessContext(
        user="Device/development",
        role="system",
        organisation=None,
        purpose="treatment",
        client_address=client,
        strict_handling=strict,
        via="development",
    )


def handle(request: Request) -> CallerHandle:
    """The caller's handle (decision 0313): the only way a route reaches records, exports, operations and the
    audit trail. Cheap to make (no I/O): who is asking is the same check as `access_context`."""
    return services(request).gate.for_caller(access_context(request))
