"""Nothing is open by default (decision 0311): before any route runs, a request to a route not declared `@public`
(api/public.py) must carry valid credentials — a bearer token the token service knows, or a signed-in session.
Without them the API answers 401 with an OperationOutcome and the pages redirect to the sign-in page.

This is a check of presence and validity only; what the caller may do is still the gate's question. The token's
holder and the session's user are looked up here once and kept on the request, so the handlers' own
`access_context` and `require_user` do not look again.
"""

from __future__ import annotations

from typing import Any

from fastapi.routing import RouteContext, iter_route_contexts
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from joinedup.fhir.errors import Unauthorized
from joinedup.web.csrf import API_PREFIXES
from joinedup.web.routes.common import sign_in_redirect
from joinedup.web.session import signed_in

from .deps import bearer_token, token_holder
from .outcome import outcome_of
from .public import is_public
from .responses import fhir_response


def route_endpoints(routes: list[Any]) -> list[tuple[RouteContext, Any]]:
    """Every route of the table in matching order, with what answers it (an endpoint, or a mount's app)."""
    return [(context, _endpoint_of(context)) for context in iter_route_contexts(routes)]


def _endpoint_of(context: RouteContext) -> Any:
    endpoint = context.endpoint
    return endpoint if endpoint is not None else getattr(context.original_route, "app", None)


def is_api_path(path: str) -> bool:
    """API paths answer with OperationOutcomes; every other path is a page (or the pages' static files)."""
    return path.startswith(API_PREFIXES)


def refusal(request: Request, message: str) -> Response:
    """401 with an OperationOutcome for the API; a redirect to sign in (and come back) for a page."""
    if is_api_path(request.url.path):
        response = fhir_response(outcome_of(Unauthorized(message)), status=401)
        response.headers["WWW-Authenticate"] = 'Bearer realm="JoinedUp"'
        return response
    return sign_in_redirect(request.url.path + (f"?{request.url.query}" if request.url.query else ""))


class RequireCredentialsMiddleware:
    """Runs inside the session middleware (it reads the session) and before routing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._table: list[tuple[RouteContext, Any]] | None = None

    def _route_is_public(self, scope: Scope) -> bool:
        """Whether the route the router will pick is declared public. The table is read at the first request, once
        create_app has finished it; a method mismatch picks the first partial match, as the router's 405 does."""
        if self._table is None:
            self._table = route_endpoints(scope["app"].routes)
        partial: Any = None
        for context, endpoint in self._table:
            match, _ = context.matches(scope)
            if match is Match.FULL:
                return is_public(endpoint)
            if match is Match.PARTIAL and partial is None:
                partial = endpoint
        return partial is not None and is_public(partial)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._route_is_public(scope):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refused = await self._refused(request)
        if refused is None:
            await self.app(scope, receive, send)
        else:
            await refused(scope, receive, send)

    @staticmethod
    async def _refused(request: Request) -> Response | None:
        if bearer_token(request) is not None:
            if await run_in_threadpool(token_holder, request) is None:
                return refusal(request, "The bearer token is not valid or has expired")
            return None
        if await run_in_threadpool(signed_in, request) is None:
            return refusal(request, "A bearer token is required")
        return None
