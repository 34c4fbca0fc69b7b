"""Hot API routes matched ahead of the route table, for exactly the URLs the table would give them (decision 0010).

The app's routes are matched in order and FastAPI re-matches inside the router that won, so a FHIR read walked
34 route patterns and then FastAPI's parameter machinery before reaching its handler: about 450 of the 760 Python
calls a read made on the event loop. `serve_ahead` puts one small route at the head of the table that answers GET for
one endpoint's path pattern, calling that endpoint itself, and declines every URL that an earlier route of the
table could take (`/fhir/Patient/_history`, `/fhir/Patient/$export`, …). Those earlier routes are read from the
table when the route is installed, so a route added before the endpoint later is respected without anyone having
to remember this file. The endpoint's own route stays where it is: OpenAPI, the access matrix and HEAD still use
it, and it answers every method and URL the fast route declines.

The fast route only serves an endpoint whose parameters are plain `str` path parameters and the Request (no query,
header, cookie or body parameters, no dependencies): then FastAPI's validation would pass the same strings through
unchanged, and calling the endpoint directly is the same call. `serve_ahead` refuses any other endpoint.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import RouteContext, iter_route_contexts
from starlette._utils import get_route_path  # the path routes match against (FastAPI's routes use it too)
from starlette.convertors import PathConvertor, StringConvertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound, WebSocketRoute
from starlette.types import Receive, Scope, Send

_EVERYTHING = re.compile("")  # a route that cannot be reasoned about is taken to match every path


class AheadRoute(BaseRoute):
    """GET on one endpoint's path pattern, except the paths listed in `earlier` (routes that precede it)."""

    def __init__(self, context: RouteContext, earlier: list[re.Pattern[str]]) -> None:
        dependant = context.dependant
        self.route = context.original_route
        self.endpoint: Callable[..., Any] = context.endpoint  # type: ignore[assignment]
        self.path = context.path
        self.path_format = context.path_format  # telemetry names the request by it, as the table's route does
        self.methods = {"GET"}
        self.path_regex: re.Pattern[str] = context.path_regex
        self.earlier = earlier
        self.request_param: str = dependant.request_param_name

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] != "GET":
            return Match.NONE, {}
        path = get_route_path(scope)
        found = self.path_regex.match(path)
        if found is None:
            return Match.NONE, {}
        for pattern in self.earlier:
            if pattern.match(path):
                return Match.NONE, {}
        params = {**scope.get("path_params", {}), **found.groupdict()}
        return Match.FULL, {"endpoint": self.endpoint, "route": self.route, "path_params": params}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        arguments: dict[str, Any] = dict(scope["path_params"])
        arguments[self.request_param] = Request(scope, receive, send)
        response = await self.endpoint(**arguments)
        if not isinstance(response, Response):  # serve_ahead only takes endpoints annotated to return a Response
            raise TypeError(f"{self.endpoint.__qualname__} returned {type(response).__name__}, not a Response")
        await response(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)  # URLs are built from the table's own route


def serve_ahead(app: FastAPI, endpoint: Callable[..., Any]) -> AheadRoute:
    """Match GET for `endpoint` first; call once the route table is complete (the end of create_app)."""
    if any(isinstance(r, AheadRoute) and r.endpoint is endpoint for r in app.router.routes):
        raise ValueError(f"{endpoint.__qualname__} is already served ahead")
    contexts = list(iter_route_contexts(app.routes))
    position = next(
        (
            i
            for i, c in enumerate(contexts)
            if c.endpoint is endpoint and "GET" in (c.methods or ()) and not isinstance(c.original_route, AheadRoute)
        ),
        None,
    )
    if position is None:
        raise ValueError(f"{endpoint.__qualname__} has no GET route in the table")
    context = contexts[position]
    _require_plain(context)
    earlier = [pattern for c in contexts[:position] if (pattern := _could_take(c, context)) is not None]
    route = AheadRoute(context, earlier)
    app.router.routes.insert(0, route)
    return route


def _require_plain(context: RouteContext) -> None:
    dependant = context.dependant
    name = context.endpoint.__qualname__ if context.endpoint else context.path
    extra = (
        dependant.query_params,
        dependant.header_params,
        dependant.cookie_params,
        dependant.body_params,
        dependant.dependencies,
        context.dependencies,
    )
    if any(extra) or dependant.request_param_name is None:
        raise ValueError(f"{name}: only an endpoint of str path parameters and the Request can be served ahead")
    for field in dependant.path_params:
        if field.field_info.annotation is not str or field.alias != field.name:
            raise ValueError(f"{name}: path parameter {field.name} is not a plain str")
    if not all(isinstance(c, StringConvertor) for c in context.param_convertors.values()):
        raise ValueError(f"{name}: only {{name}} path segments (no convertors) can be served ahead")


def _could_take(earlier: RouteContext, target: RouteContext) -> re.Pattern[str] | None:
    """The earlier route's pattern if it could win some GET that the target's pattern matches, else None."""
    route = earlier.original_route
    if isinstance(route, WebSocketRoute):
        return None
    methods = earlier.methods
    if methods is not None and "GET" not in methods:
        return None  # a method mismatch is only a partial match: the target's full match still wins
    pattern = getattr(earlier, "path_regex", None)
    path_format = getattr(earlier, "path_format", None)
    if pattern is None or path_format is None:
        return _EVERYTHING
    convertors = getattr(earlier, "param_convertors", {}).values()
    if any(isinstance(c, PathConvertor) for c in convertors) or not _disjoint(path_format, target.path_format):
        return pattern  # type: ignore[no-any-return]
    return None


def _disjoint(one: str, other: str | None) -> bool:
    """True when no path matches both formats: different segment counts, or two different literal segments at the
    same place (a segment holding a {parameter} anywhere may match anything)."""
    if other is None:
        return False
    first, second = one.split("/"), other.split("/")
    if len(first) != len(second):
        return True
    return any(a != b and _literal(a) and _literal(b) for a, b in zip(first, second, strict=True))


def _literal(segment: str) -> bool:
    return "{" not in segment
