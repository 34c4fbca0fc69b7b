"""The read, search and $everything served ahead of the route table (decision 0010): the same answers as the table
gives, byte for byte, and every URL an earlier route takes is left to that route."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Match, Mount

from joinedup.api import resource_routes, search_routes
from joinedup.api.ahead import AheadRoute, serve_ahead
from joinedup.api.threads import in_thread

from ..fixtures import condition, patient

FHIR = {"Content-Type": "application/fhir+json"}


@contextmanager
def _table_only(app: FastAPI) -> Iterator[None]:
    """The app as it was before the ahead routes: the route table alone."""
    ahead = [r for r in app.router.routes if isinstance(r, AheadRoute)]
    assert ahead and app.router.routes[: len(ahead)] == ahead
    del app.router.routes[: len(ahead)]
    try:
        yield
    finally:
        app.router.routes[:0] = ahead


def _ahead(client: TestClient, endpoint: object) -> AheadRoute:
    found = [r for r in client.app.router.routes if isinstance(r, AheadRoute) and r.endpoint is endpoint]  # type: ignore[attr-defined]
    assert len(found) == 1
    return found[0]


def _answer(client: TestClient, method: str, url: str, headers: dict[str, str]) -> tuple[int, list[object], bytes]:
    response = client.request(method, url, headers=headers, follow_redirects=False)
    return response.status_code, sorted(response.headers.multi_items()), response.content


def _scope(path: str, method: str = "GET") -> dict[str, object]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}


def test_the_hot_gets_are_served_ahead_and_answer_as_the_table_does(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    served_ahead = {r.endpoint for r in app.router.routes if isinstance(r, AheadRoute)}
    assert served_ahead == {resource_routes.read, search_routes.search_get, search_routes.everything}

    client.put("/fhir/Patient/p1", json=patient("p1"), headers=FHIR)
    client.put("/fhir/Condition/c1", json=condition("c1", "p1", "44054006"), headers=FHIR)
    client.put("/fhir/Patient/gone", json=patient("gone"), headers=FHIR)
    client.delete("/fhir/Patient/gone")
    cases: list[tuple[str, str, dict[str, str]]] = [
        ("GET", "/fhir/Patient/p1", {}),
        ("GET", "/fhir/Patient/p1", {"If-None-Match": 'W/"1"'}),
        ("GET", "/fhir/Patient/p1", {"If-None-Match": 'W/"7"'}),
        ("GET", "/fhir/Patient/p1", {"Authorization": "Bearer not-a-token"}),
        ("GET", "/fhir/Patient/p1", {"Content-Length": str(64 * 1024 * 1024)}),  # the body limit still answers 413
        ("GET", "/fhir/Patient/missing", {}),
        ("GET", "/fhir/Patient/gone", {}),
        ("GET", "/fhir/NotAType/p1", {}),
        ("GET", "/fhir/Patient/a%20b", {}),
        ("GET", "/fhir/Patient/p1/", {}),
        ("HEAD", "/fhir/Patient/p1", {}),
        # URLs of the read's shape that earlier routes take
        ("GET", "/fhir/Patient/_history", {}),
        ("GET", "/fhir/Patient/$export", {}),
        ("GET", "/fhir/$export-status/no-such-job", {}),
        ("GET", "/fhir/.well-known/smart-configuration", {}),
        ("GET", "/fhir/Patient/_search", {}),
        # and some that are no read at all
        ("GET", "/fhir/metadata", {}),
        ("GET", "/fhir/Patient", {}),
        ("GET", "/fhir/Patient/p1/_history", {}),
        ("GET", "/fhir/Patient/p1/_history/1", {}),
        # search and $everything, and the URLs of their shapes that earlier routes take
        ("GET", "/fhir/Condition?subject=Patient/p1", {}),
        ("GET", "/fhir/Condition?subject=Patient/p1&_count=abc", {}),
        ("GET", "/fhir/Condition?subject=Patient/p1", {"Prefer": "handling=strict"}),
        ("GET", "/fhir/Patient?_summary=true", {}),
        ("GET", "/fhir/NotAType?name=x", {}),
        ("GET", "/fhir/_history", {}),
        ("GET", "/fhir/$export", {}),
        ("GET", "/fhir/Patient/p1/$everything", {}),
        ("GET", "/fhir/Patient/p1/$everything?_type=Condition&_count=1", {}),
        ("GET", "/fhir/Patient/missing/$everything", {}),
        ("GET", "/fhir/Patient/p1/Condition", {}),
        ("GET", "/fhir/Group/g1/$export", {}),
    ]
    served = [_answer(client, method, url, headers) for method, url, headers in cases]
    with _table_only(app):
        table = [_answer(client, method, url, headers) for method, url, headers in cases]
    for case, ahead_answer, table_answer in zip(cases, served, table, strict=True):
        assert ahead_answer == table_answer, case
    statuses = dict(zip((f"{m} {u} {h}" for m, u, h in cases), (s for s, _, _ in served), strict=True))
    assert statuses["GET /fhir/Patient/p1 {}"] == 200
    assert statuses["GET /fhir/Patient/p1 {'If-None-Match': 'W/\"1\"'}"] == 304
    assert statuses["GET /fhir/Patient/gone {}"] == 410
    assert statuses["GET /fhir/Patient/_history {}"] == 200
    assert statuses["GET /fhir/Condition?subject=Patient/p1 {}"] == 200
    assert statuses["GET /fhir/Patient/p1/$everything {}"] == 200


def test_the_ahead_routes_take_their_own_urls_only(client: TestClient) -> None:
    ahead = _ahead(client, resource_routes.read)
    assert ahead.matches(_scope("/fhir/Condition/c-1"))[0] == Match.FULL
    assert ahead.matches(_scope("/fhir/Condition/c-1"))[1]["path_params"] == {
        "resource_type": "Condition",
        "resource_id": "c-1",
    }
    for path in (
        "/fhir/Patient/_history",
        "/fhir/Patient/$export",
        "/fhir/$export-status/j1",
        "/fhir/.well-known/smart-configuration",
        "/fhir/Patient",
        "/fhir/Patient/p1/",
        "/fhir/Patient/p1/_history",
        "/healthz",
    ):
        assert ahead.matches(_scope(path))[0] == Match.NONE, path
    for method in ("HEAD", "PUT", "DELETE", "PATCH", "POST"):
        assert ahead.matches(_scope("/fhir/Patient/p1", method))[0] == Match.NONE, method
    search = _ahead(client, search_routes.search_get)
    assert search.matches(_scope("/fhir/Condition"))[0] == Match.FULL
    for path in ("/fhir/metadata", "/fhir/$export", "/fhir/_history", "/fhir/", "/fhir", "/fhir/Patient/p1"):
        assert search.matches(_scope(path))[0] == Match.NONE, path
    everything = _ahead(client, search_routes.everything)
    assert everything.matches(_scope("/fhir/Patient/p1/$everything"))[0] == Match.FULL
    assert everything.matches(_scope("/fhir/Patient/p1/Condition"))[0] == Match.NONE


def test_the_openapi_document_lists_each_operation_once(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    operations = app.openapi()["paths"]["/fhir/{resource_type}/{resource_id}"]
    assert set(operations) == {"get", "put", "patch", "delete"}
    reads = [
        c
        for c in iter_route_contexts(app.routes)
        if c.path == "/fhir/{resource_type}/{resource_id}" and "GET" in (c.methods or ())
    ]
    assert [type(c.original_route).__name__ for c in reads] == ["AheadRoute", "APIRoute"]
    assert set(app.openapi()["paths"]["/fhir/{resource_type}"]) == {"get", "post", "put", "delete"}
    assert set(app.openapi()["paths"]["/fhir/Patient/{patient_id}/$everything"]) == {"get"}


# --- serve_ahead on a small app -----------------------------------------------------------------------------------
def _toy() -> tuple[FastAPI, APIRouter]:
    app = FastAPI()
    early = APIRouter()

    @early.get("/things/{kind}/special")
    async def special(kind: str) -> Response:
        return PlainTextResponse(f"special {kind}")

    @early.post("/things/{kind}/{name}/x")
    async def other_shape(kind: str, name: str) -> Response:
        return PlainTextResponse("post")

    @early.post("/things/{kind}/posted")
    async def posted(kind: str) -> Response:
        return PlainTextResponse("post only")

    @early.get("/stuff/{kind}/{name}")
    async def elsewhere(kind: str, name: str) -> Response:
        return PlainTextResponse("elsewhere")

    app.include_router(early)
    late = APIRouter()

    @late.get("/things/{kind}/{name}")
    async def thing(kind: str, name: str, request: Request) -> Response:
        return PlainTextResponse(f"thing {kind} {name} {request.url.path}")

    app.include_router(late)
    return app, late


def test_serve_ahead_defers_to_earlier_routes_of_the_same_shape() -> None:
    app, late = _toy()
    endpoint = late.routes[0].endpoint  # type: ignore[attr-defined]
    ahead = serve_ahead(app, endpoint)
    assert [p.pattern for p in ahead.earlier] == ["^/things/(?P<kind>[^/]+)/special$"]
    client = TestClient(app)
    assert client.get("/things/a/special").text == "special a"
    assert client.get("/things/a/b").text == "thing a b /things/a/b"
    assert client.get("/things/a/posted").text == "thing a posted /things/a/posted"  # POST-only: not a GET winner
    assert client.post("/things/a/posted").text == "post only"


def test_serve_ahead_takes_a_mount_before_the_endpoint_as_covering_everything_below_it() -> None:
    app = FastAPI()
    app.router.routes.append(Mount("/things", app=PlainTextResponse("mounted")))
    router = APIRouter()

    @router.get("/things/{kind}/{name}")
    async def thing(kind: str, name: str, request: Request) -> Response:
        return PlainTextResponse("thing")

    app.include_router(router)
    ahead = serve_ahead(app, thing)
    assert ahead.matches(_scope("/things/a/b"))[0] == Match.NONE
    assert TestClient(app).get("/things/a/b").text == "mounted"


def test_serve_ahead_refuses_endpoints_it_could_not_call_as_fastapi_would() -> None:
    app = FastAPI()

    def dependency() -> int:
        return 1

    @app.get("/a/{number}")
    async def typed(number: int, request: Request) -> Response:
        return PlainTextResponse("")

    @app.get("/b/{name}")
    async def queried(name: str, q: str, request: Request) -> Response:
        return PlainTextResponse("")

    @app.get("/c/{name}")
    async def depending(name: str, request: Request, value: int = Depends(dependency)) -> Response:
        return PlainTextResponse("")

    @app.get("/d/{name:path}")
    async def whole_path(name: str, request: Request) -> Response:
        return PlainTextResponse("")

    @app.post("/e/{name}")
    async def posted(name: str, request: Request) -> Response:
        return PlainTextResponse("")

    for endpoint in (typed, queried, depending, whole_path, posted):
        with pytest.raises(ValueError):
            serve_ahead(app, endpoint)
    assert not any(isinstance(r, AheadRoute) for r in app.router.routes)


def test_in_thread_carries_context_and_errors() -> None:
    variable: contextvars.ContextVar[str] = contextvars.ContextVar("variable", default="unset")

    def seen() -> str:
        return variable.get()

    def fails() -> None:
        raise LookupError("from the thread")

    async def run() -> str:
        variable.set("the caller's")
        with pytest.raises(LookupError, match="from the thread"):
            await in_thread(fails)
        return await in_thread(seen)

    assert asyncio.run(run()) == "the caller's"
