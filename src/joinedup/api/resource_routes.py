"""Instance and type interactions: read, vread, create, update, patch, delete, conditional forms, history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from joinedup.access.handle import CallerHandle, Outcome
from joinedup.fhir.errors import InvalidRequest
from joinedup.fhir.resource_types import require_r4_type

from .body import parse_json, read_body, read_resource
from .deps import handle, prefer, services
from .outcome import information
from .responses import FHIR_JSON, fhir_response, version_headers
from .threads import in_thread

router = APIRouter()


def _if_match(request: Request) -> int | None:
    header = request.headers.get("if-match")
    if header is None:
        return None
    digits = header.replace("W/", "").strip().strip('"')
    if not digits.isdigit():
        raise InvalidRequest(f"If-Match '{header}' is not a version ETag such as W/\"3\"", location="If-Match")
    return int(digits)


def _query_string(request: Request) -> str:
    return request.url.query


def _written_response(request: Request, caller: CallerHandle, outcome: Outcome, created_status: int = 201) -> Response:
    written = outcome.written
    base = services(request).settings.fhir_base
    headers = version_headers(written.resource_type, written.id, written.version_id, written.last_updated, base)
    status = created_status if written.created else 200
    wanted = prefer(request).get("return", "representation")
    if wanted == "minimal":
        return fhir_response(None, status=status, headers=headers)
    if wanted == "OperationOutcome":
        verb = "created" if written.created else ("updated" if written.changed else "unchanged")
        return fhir_response(information(f"{written.resource_type}/{written.id} {verb}"), status, headers)
    body = outcome.existing or written.resource
    if body is None:
        version = caller.read(written.resource_type, written.id)
        body = version.content
    return fhir_response(body, status=status, headers=headers)


@router.post("/{resource_type}")
async def create(resource_type: str, request: Request) -> Response:
    require_r4_type(resource_type)
    caller = handle(request)
    resource = await read_resource(request, services(request).settings.max_request_bytes)
    if resource.get("resourceType") != resource_type:
        raise InvalidRequest(
            f"resourceType '{resource.get('resourceType')}' does not match the URL's '{resource_type}'",
            location="resourceType",
        )
    if_none_exist = request.headers.get("if-none-exist")
    outcome = await run_in_threadpool(caller.create, resource, if_none_exist)
    return _written_response(request, caller, outcome)


@router.put("/{resource_type}")
async def conditional_update(resource_type: str, request: Request) -> Response:
    require_r4_type(resource_type)
    caller = handle(request)
    if not request.url.query:
        raise InvalidRequest("A PUT to a type needs search criteria (conditional update)", location="url")
    resource = await read_resource(request, services(request).settings.max_request_bytes)
    outcome = await run_in_threadpool(caller.conditional_update, resource_type, _query_string(request), resource)
    return _written_response(request, caller, outcome)


@router.delete("/{resource_type}")
async def conditional_delete(resource_type: str, request: Request) -> Response:
    require_r4_type(resource_type)
    caller = handle(request)
    if not request.url.query:
        raise InvalidRequest("A DELETE on a type needs search criteria (conditional delete)", location="url")
    await run_in_threadpool(caller.conditional_delete, resource_type, _query_string(request))
    return fhir_response(None, status=204)


# Served ahead of the route table too (decision 0010): str path parameters and the Request only, or start-up fails
@router.get("/{resource_type}/{resource_id}")
async def read(resource_type: str, resource_id: str, request: Request) -> Response:
    require_r4_type(resource_type)
    caller = handle(request)
    found = services(request)
    version = await in_thread(caller.read, resource_type, resource_id)
    headers = version_headers(
        resource_type, resource_id, version.version_id, version.last_updated, found.settings.fhir_base
    )
    headers.pop("Location")
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    return Response(content=version.raw, media_type=FHIR_JSON, headers=headers)


@router.get("/{resource_type}/{resource_id}/_history/{version_id}")
async def vread(resource_type: str, resource_id: str, version_id: str, request: Request) -> Response:
    require_r4_type(resource_type)
    if not version_id.isdigit():
        raise InvalidRequest(f"Version '{version_id}' is not a number", location="versionId")
    caller = handle(request)
    version = await run_in_threadpool(caller.vread, resource_type, resource_id, int(version_id))
    headers = version_headers(
        resource_type, resource_id, version.version_id, version.last_updated, services(request).settings.fhir_base
    )
    headers.pop("Location")
    return fhir_response(version.content, headers=headers)


@router.put("/{resource_type}/{resource_id}")
async def update(resource_type: str, resource_id: str, request: Request) -> Response:
    require_r4_type(resource_type)
    caller = handle(request)
    resource = await read_resource(request, services(request).settings.max_request_bytes)
    outcome = await run_in_threadpool(caller.update, resource_type, resource_id, resource, _if_match(request))
    return _written_response(request, caller, outcome)


@router.patch("/{resource_type}/{resource_id}")
async def patch(resource_type: str, resource_id: str, request: Request) -> Response:
    require_r4_type(resource_type)
    caller = handle(request)
    content_type = request.headers.get("content-type", "")
    if "json-patch" not in content_type:
        raise InvalidRequest("PATCH takes a JSON Patch (application/json-patch+json)", code="not-supported")
    operations: Any = parse_json(await read_body(request, services(request).settings.max_request_bytes))
    if not isinstance(operations, list):
        raise InvalidRequest("A JSON Patch is an array of operations", location="$")
    outcome = await run_in_threadpool(caller.patch, resource_type, resource_id, operations, _if_match(request))
    return _written_response(request, caller, outcome)


@router.delete("/{resource_type}/{resource_id}")
async def delete(resource_type: str, resource_id: str, request: Request) -> Response:
    require_r4_type(resource_type)
    caller = handle(request)
    outcome = await run_in_threadpool(caller.delete, resource_type, resource_id)
    headers = {"ETag": f'W/"{outcome.written.version_id}"'} if outcome.written.changed else {}
    return fhir_response(None, status=204, headers=headers)
