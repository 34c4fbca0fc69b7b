"""The person index over the FHIR API: review operations, merge and unmerge (declared in api/operations.py).

- `GET  /fhir/Task?code=https://joinedup.example/fhir/CodeSystem/person-index|link-review&status=requested` lists
  the review queue (an ordinary search); `GET /identity/api/reviews[/{task}]` gives each with both records and
  the field-by-field evidence.
- `POST /fhir/Task/{id}/$accept-link`, `POST /fhir/Task/{id}/$reject-link`: a reviewer's decision.
- `POST /fhir/Person/{id}/$merge` (Parameters: `other` = Person reference) and `POST /fhir/Person/{id}/$unmerge`
  (Parameters: `patient` = Patient reference).

Placing a written Patient is not here: the person index registers an after-write hook with the gate
(identity/install.py), which runs for every write path, Bundles included.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from joinedup.fhir.errors import InvalidRequest
from joinedup.identity.resources import ReviewStatus, ref_id
from joinedup.identity.service import PersonIndex

from .body import read_resource
from .deps import handle, services
from .responses import fhir_response

router = APIRouter()


def person_index(request: Request) -> PersonIndex:
    found: PersonIndex = request.app.state.person_index
    return found


async def _parameter_reference(request: Request, name: str, resource_type: str) -> str:
    body = await read_resource(request, services(request).settings.max_request_bytes)
    if body.get("resourceType") != "Parameters":
        raise InvalidRequest("The body must be a Parameters resource", location="resourceType")
    for parameter in body.get("parameter") or []:
        if parameter.get("name") == name and (found := ref_id(parameter.get("valueReference"), resource_type)):
            return found
    raise InvalidRequest(f"Parameters needs '{name}' as a {resource_type} reference", location="Parameters.parameter")


async def accept_link(task_id: str, request: Request) -> Response:
    return fhir_response(await run_in_threadpool(person_index(request).accept, handle(request), task_id))


async def reject_link(task_id: str, request: Request) -> Response:
    return fhir_response(await run_in_threadpool(person_index(request).reject, handle(request), task_id))


async def merge(person_id: str, request: Request) -> Response:
    caller = handle(request)
    other = await _parameter_reference(request, "other", "Person")
    return fhir_response(await run_in_threadpool(person_index(request).merge, caller, person_id, other))


async def unmerge(person_id: str, request: Request) -> Response:
    caller = handle(request)
    patient = await _parameter_reference(request, "patient", "Patient")
    return fhir_response(await run_in_threadpool(person_index(request).unmerge, caller, person_id, patient))


@router.get("/identity/api/reviews")
async def reviews(request: Request, status: str = ReviewStatus.OPEN.value) -> JSONResponse:
    wanted = ReviewStatus(status) if status in {s.value for s in ReviewStatus} else ReviewStatus.OPEN
    items = await run_in_threadpool(person_index(request).reviews, handle(request), wanted)
    return JSONResponse([dataclasses.asdict(item) | _enum_values(item) for item in items])


@router.get("/identity/api/reviews/{task_id}")
async def review(task_id: str, request: Request) -> JSONResponse:
    view = await run_in_threadpool(person_index(request).review, handle(request), task_id)
    return JSONResponse(view.as_json())


def _enum_values(item: Any) -> dict[str, Any]:
    return {"method": item.method.value, "status": item.status.value}
