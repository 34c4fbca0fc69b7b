"""Search (GET and POST _search), compartment search, $everything, history and Bundles."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from joinedup.access.handle import EntryResult
from joinedup.fhir import dates
from joinedup.fhir.errors import InvalidRequest
from joinedup.fhir.resource_types import require_r4_type
from joinedup.fhir.search_request import DEFAULT_COUNT, MAX_COUNT, SearchRequest, parse_search
from joinedup.fhir.summary import shape
from joinedup.store.results import SearchPage

from .body import read_body, read_resource
from .deps import handle, services
from .outcome import outcome_of
from .responses import FHIR_JSON, fhir_response, history_bundle, page_links, searchset, searchset_bytes
from .threads import in_thread

router = APIRouter()


def _query_pairs(request: Request) -> list[tuple[str, str]]:
    return parse_qsl(request.url.query, keep_blank_values=True)


async def _form_pairs(request: Request) -> list[tuple[str, str]]:
    body = await read_body(request, services(request).settings.max_request_bytes)
    content_type = request.headers.get("content-type", "")
    if body and "application/x-www-form-urlencoded" not in content_type:
        raise InvalidRequest("POST _search takes application/x-www-form-urlencoded parameters", code="not-supported")
    return _query_pairs(request) + parse_qsl(body.decode("utf-8"), keep_blank_values=True)


def _searchset(request: Request, search: SearchRequest, page: SearchPage, path: str) -> Response:
    base = services(request).settings.fhir_base
    links = page_links(f"{base}/{path}", search.used, search.count, search.offset, page.has_next)
    if search.summary is None and search.elements is None:
        return Response(content=searchset_bytes(base, page, links), media_type=FHIR_JSON)
    matches = [shape(r, search.summary, search.elements) for r in page.matches]
    return fhir_response(searchset(base, matches, page.included, page.total, links))


async def _run_search(request: Request, resource_type: str, pairs: list[tuple[str, str]]) -> Response:
    require_r4_type(resource_type)
    caller = handle(request)
    search = parse_search(
        resource_type, pairs, strict=caller.context.strict_handling, local_base=services(request).settings.fhir_base
    )
    page = await in_thread(caller.search, search)
    return _searchset(request, search, page, resource_type)


def _paging(pairs: list[tuple[str, str]], default: int) -> tuple[int, int]:
    count, offset = default, 0
    for name, value in pairs:
        if name in {"_count", "_offset"}:
            if not value.isdigit():
                raise InvalidRequest(f"'{name}' must be a whole number", location=name)
            if name == "_count":
                count = min(int(value), MAX_COUNT)
            else:
                offset = int(value)
    return count, offset


def _since(pairs: list[tuple[str, str]]) -> int | None:
    for name, value in pairs:
        if name == "_since":
            try:
                return dates.parse_range(value)[0]
            except ValueError:
                raise InvalidRequest(f"_since '{value}' is not an instant", location="_since") from None
    return None


@router.get("/_history")
async def system_history(request: Request) -> Response:
    return await _history(request, None, None)


@router.post("/")
@router.post("")
async def bundle(request: Request) -> Response:
    caller = handle(request)
    body = await read_resource(request, services(request).settings.max_request_bytes)
    if body.get("resourceType") != "Bundle" or body.get("type") not in {"transaction", "batch"}:
        raise InvalidRequest("POST to the base takes a Bundle of type transaction or batch", location="Bundle.type")
    if body["type"] == "transaction":
        results = await run_in_threadpool(caller.transaction, body)
    else:
        results = await run_in_threadpool(caller.batch, body, outcome_of)
    kind = f"{body['type']}-response"
    return fhir_response({"resourceType": "Bundle", "type": kind, "entry": [_entry(r) for r in results]})


def _entry(result: EntryResult) -> dict[str, object]:
    response: dict[str, object] = {"status": result.status}
    for name, value in (
        ("location", result.location),
        ("etag", result.etag),
        ("lastModified", result.last_modified),
        ("outcome", result.outcome),
    ):
        if value is not None:
            response[name] = value
    entry: dict[str, object] = {"response": response}
    if result.resource is not None:
        entry["resource"] = result.resource
    return entry


# Served ahead of the route table too (decision 0010): str path parameters and the Request only, or start-up fails
@router.get("/{resource_type}")
async def search_get(resource_type: str, request: Request) -> Response:
    return await _run_search(request, resource_type, _query_pairs(request))


@router.post("/{resource_type}/_search")
async def search_post(resource_type: str, request: Request) -> Response:
    return await _run_search(request, resource_type, await _form_pairs(request))


@router.get("/{resource_type}/_history")
async def type_history(resource_type: str, request: Request) -> Response:
    require_r4_type(resource_type)
    return await _history(request, resource_type, None)


@router.get("/{resource_type}/{resource_id}/_history")
async def instance_history(resource_type: str, resource_id: str, request: Request) -> Response:
    require_r4_type(resource_type)
    return await _history(request, resource_type, resource_id)


async def _history(request: Request, resource_type: str | None, resource_id: str | None) -> Response:
    caller = handle(request)
    pairs = _query_pairs(request)
    count, offset = _paging(pairs, DEFAULT_COUNT)
    since = _since(pairs)
    page = await run_in_threadpool(caller.history, resource_type, resource_id, since, count, offset)
    base = services(request).settings.fhir_base
    path = "/".join(p for p in (resource_type, resource_id, "_history") if p)
    kept = [(n, v) for n, v in pairs if n == "_since"]
    links = page_links(f"{base}/{path}", kept, count, offset, page.has_next)
    return fhir_response(history_bundle(base, page.versions, page.total, links))


# Routed from the operations table (api/operations.py) and served ahead of the route table too (decision 0010): str
# path parameters and the Request only, or start-up fails
async def everything(patient_id: str, request: Request) -> Response:
    caller = handle(request)
    pairs = _query_pairs(request)
    count, offset = _paging(pairs, 100)
    types = [t for n, v in pairs if n == "_type" for t in v.split(",") if t]
    for resource_type in types:
        require_r4_type(resource_type)
    since = _since(pairs)
    page = await in_thread(caller.everything, patient_id, since, types or None, count, offset)
    base = services(request).settings.fhir_base
    kept = [(n, v) for n, v in pairs if n in {"_since", "_type"}]
    links = page_links(f"{base}/Patient/{patient_id}/$everything", kept, count, offset, page.has_next)
    return Response(content=searchset_bytes(base, page, links), media_type=FHIR_JSON)


@router.get("/Patient/{patient_id}/{resource_type}")
async def compartment(patient_id: str, resource_type: str, request: Request) -> Response:
    require_r4_type(resource_type)
    caller = handle(request)
    search = parse_search(
        resource_type,
        _query_pairs(request),
        strict=caller.context.strict_handling,
        local_base=services(request).settings.fhir_base,
    )
    page = await run_in_threadpool(caller.compartment_search, patient_id, search)
    return _searchset(request, search, page, f"Patient/{patient_id}/{resource_type}")
