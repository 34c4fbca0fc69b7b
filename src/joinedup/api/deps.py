"""What each request needs: the gate, the settings, and who is asking."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from joinedup.access.accounts.tokens import TokenHolder
from joinedup.access.context import AccessContext
from joinedup.access.gate import AccessGate
from joinedup.access.handle import CallerHandle
from joinedup.access.roles import purpose_of
from joinedup.fhir.errors import Unauthorized
from joinedup.settings import Settings

_NOT_LOOKED_UP = object()


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


def bearer_token(request: Request) -> str | None:
    """The bearer token the request carries, or None."""
    authorization = request.headers.get("authorization", "")
    return authorization[7:].strip() if authorization.lower().startswith("bearer ") else None


def token_holder(request: Request) -> TokenHolder | None:
    """Who the request's bearer token stands for (None: no token, or not a valid one), looked up once per request:
    the credentials check (api/credentials.py) looks first and the handler's access_context reuses it."""
    cached: Any = getattr(request.state, "token_holder", _NOT_LOOKED_UP)
    if cached is _NOT_LOOKED_UP:
        token = bearer_token(request)
        cached = request.state.token_holder = services(request).gate.tokens.holder(token) if token else None
    holder: TokenHolder | None = cached
    return holder


def access_context(request: Request) -> AccessContext:
    """Who is asking: the bearer token's holder. A request without a valid token is nobody, in every environment:
    401 (decision 0311)."""
    if bearer_token(request) is None:
        raise Unauthorized("A bearer token is required")
    holder = token_holder(request)
    if holder is None:
        raise Unauthorized("The bearer token is not valid or has expired")
    return AccessContext(
        user=holder.user_ref,
        role=holder.role,
        organisation=holder.organisation,
        purpose=purpose_of(holder.role),
        client_address=request.client.host if request.client else None,
        strict_handling=prefer(request).get("handling") == "strict",
        scopes=holder.scopes,
        via="api",
    )


def handle(request: Request) -> CallerHandle:
    """The caller's handle (decision 0313): the only way a route reaches records, exports, operations and the
    audit trail. Cheap to make (no I/O): who is asking is the same check as `access_context`."""
    return services(request).gate.for_caller(access_context(request))
