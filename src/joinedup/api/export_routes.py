"""Bulk Data $export: kick-off (system, Patient, Group: routed from the operations table, api/operations.py),
status polling, files, cancel."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from joinedup.fhir import dates
from joinedup.fhir.errors import InvalidRequest

from .deps import handle, services
from .outcome import information
from .responses import fhir_response

router = APIRouter()


def _parse(request: Request) -> tuple[list[str], int | None]:
    """(_type's resource types, _since as microseconds)."""
    pairs = parse_qsl(request.url.query, keep_blank_values=True)
    types: list[str] = []
    since: int | None = None
    for name, value in pairs:
        if name == "_type":
            types.extend(t for t in value.split(",") if t)
        elif name == "_since":
            try:
                since = dates.parse_range(value)[0]
            except ValueError:
                raise InvalidRequest(f"_since '{value}' is not an instant", location="_since") from None
        elif name == "_outputFormat" and value not in {"application/fhir+ndjson", "application/ndjson", "ndjson"}:
            raise InvalidRequest(
                f"_outputFormat '{value}' is not supported; use application/fhir+ndjson", location="_outputFormat"
            )
    return types, since


async def _kick_off(request: Request, kind: str, group_id: str | None = None) -> Response:
    caller = handle(request)
    if request.headers.get("prefer", "").find("respond-async") < 0:
        raise InvalidRequest("$export needs the header 'Prefer: respond-async'", location="Prefer")
    types, since = _parse(request)
    job_id = await run_in_threadpool(caller.export, kind, types, since, group_id, str(request.url))
    status_url = f"{services(request).settings.fhir_base}/$export-status/{job_id}"
    return Response(status_code=202, headers={"Content-Location": status_url})


async def system_export(request: Request) -> Response:
    return await _kick_off(request, "system")


async def patient_export(request: Request) -> Response:
    return await _kick_off(request, "patient")


async def group_export(group_id: str, request: Request) -> Response:
    return await _kick_off(request, "group", group_id)


@router.get("/$export-status/{job_id}")
async def export_status(job_id: str, request: Request) -> Response:
    status = await run_in_threadpool(handle(request).export_status, job_id)
    if status.status == "in-progress":
        return Response(status_code=202, headers={"X-Progress": "in progress", "Retry-After": "1"})
    if status.status == "complete" and status.manifest is not None:
        base = services(request).settings.fhir_base
        manifest = {
            **status.manifest,
            "output": [{**o, "url": f"{base}/$export-files/{o['url']}"} for o in status.manifest["output"]],
        }
        return fhir_response(manifest)
    if status.status == "cancelled":
        return fhir_response(information(f"Export {job_id} was cancelled"), status=404)
    return fhir_response(information(f"Export {job_id} failed: {status.error}"), status=500)


@router.delete("/$export-status/{job_id}")
async def cancel_export(job_id: str, request: Request) -> Response:
    await run_in_threadpool(handle(request).export_cancel, job_id)
    return Response(status_code=202)


@router.get("/$export-files/{job_id}/{name}")
async def export_file(job_id: str, name: str, request: Request) -> Response:
    path = await run_in_threadpool(handle(request).export_file, job_id, name)
    return FileResponse(path, media_type="application/fhir+ndjson")
