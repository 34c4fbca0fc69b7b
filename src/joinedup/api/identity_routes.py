"""The person index over the FHIR API: review operations, merge and unmerge, and the hook that places a Patient
as it is written.

- `GET  /fhir/Task?code=https://joinedup.example/fhir/CodeSystem/person-index|link-review&status=requested` lists
  the review queue (an ordinary search); `GET /identity/api/reviews[/{task}]` gives each with both records and
  the field-by-field evidence.
- `POST /fhir/Task/{id}/$accept-link`, `POST /fhir/Task/{id}/$reject-link`: a reviewer's decision.
- `POST /fhir/Person/{id}/$merge` (Parameters: `other` = Person reference) and `POST /fhir/Person/{id}/$unmerge`
  (Parameters: `patient` = Patient reference).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from joinedup.access.context import AccessContext
from joinedup.fhir.errors import FhirError, InvalidRequest, NotFound
from joinedup.identity.arrivals import ArrivalLinker
from joinedup.identity.decisions import Thresholds
from joinedup.identity.index_store import IndexStore
from joinedup.identity.resources import ReviewStatus, person_resource, ref_id
from joinedup.identity.review import Reviewer
from joinedup.identity.review_view import review_view
from joinedup.settings import Settings
from joinedup.store.fhir_store import Outcome

from .body import read_resource
from .deps import access_context, services
from .responses import fhir_response

router = APIRouter()
log = logging.getLogger(__name__)


def install_identity(app: FastAPI, settings: Settings) -> None:
    """The routes, and the linker that places arriving Patients (one per app: it keeps the parsed model)."""
    gate = app.state.services.gate
    thresholds = Thresholds(settings.identity_link_threshold, settings.identity_review_threshold)
    app.state.arrivals = ArrivalLinker(IndexStore(gate), thresholds)
    app.include_router(router)


async def place_written_patient(request: Request, outcome: Outcome) -> None:
    """After a Patient is created or changed through the API: match it against the index as it arrives. A failure
    here never undoes the write: the next batch run places the record."""
    written = outcome.written
    if written.resource_type != "Patient" or not written.changed or written.resource is None:
        return
    linker: ArrivalLinker | None = getattr(request.app.state, "arrivals", None)
    if linker is None:
        return
    try:
        await run_in_threadpool(linker.place, written.resource)
    except FhirError as error:  # logged without identifiers or content
        log.warning("person index: an arriving Patient was not placed (%s)", type(error).__name__)


def _reviewer(request: Request, ctx: AccessContext) -> Reviewer:
    gate = services(request).gate
    return Reviewer(IndexStore(gate), IndexStore(gate, ctx))


async def _parameter_reference(request: Request, name: str, resource_type: str) -> str:
    body = await read_resource(request, services(request).settings.max_request_bytes)
    if body.get("resourceType") != "Parameters":
        raise InvalidRequest("The body must be a Parameters resource", location="resourceType")
    for parameter in body.get("parameter") or []:
        if parameter.get("name") == name and (found := ref_id(parameter.get("valueReference"), resource_type)):
            return found
    raise InvalidRequest(f"Parameters needs '{name}' as a {resource_type} reference", location="Parameters.parameter")


@router.post("/fhir/Task/{task_id}/$accept-link")
async def accept_link(task_id: str, request: Request) -> Response:
    person = await run_in_threadpool(_reviewer(request, access_context(request)).accept, task_id)
    return fhir_response(person_resource(person))


@router.post("/fhir/Task/{task_id}/$reject-link")
async def reject_link(task_id: str, request: Request) -> Response:
    reviewer = _reviewer(request, access_context(request))
    await run_in_threadpool(reviewer.reject, task_id)
    # The decided Task as the index holds it: a review Task names its records only as inputs, so the gate shows
    # it to the system alone, and reading it as the reviewer answered 404 after the rejection was made.
    task = await run_in_threadpool(reviewer.store.read, "Task", task_id)
    if task is None:
        raise NotFound(f"Task/{task_id} is not known")
    return fhir_response(task)


@router.post("/fhir/Person/{person_id}/$merge")
async def merge(person_id: str, request: Request) -> Response:
    other = await _parameter_reference(request, "other", "Person")
    person = await run_in_threadpool(_reviewer(request, access_context(request)).merge, person_id, other)
    return fhir_response(person_resource(person))


@router.post("/fhir/Person/{person_id}/$unmerge")
async def unmerge(person_id: str, request: Request) -> Response:
    patient = await _parameter_reference(request, "patient", "Patient")
    person = await run_in_threadpool(_reviewer(request, access_context(request)).unmerge, person_id, patient)
    return fhir_response(person_resource(person))


@router.get("/identity/api/reviews")
async def reviews(request: Request, status: str = ReviewStatus.OPEN.value) -> JSONResponse:
    wanted = ReviewStatus(status) if status in {s.value for s in ReviewStatus} else ReviewStatus.OPEN
    store = IndexStore(services(request).gate, access_context(request))
    items = await run_in_threadpool(store.reviews, wanted)
    return JSONResponse([dataclasses.asdict(item) | _enum_values(item) for item in items])


@router.get("/identity/api/reviews/{task_id}")
async def review(task_id: str, request: Request) -> JSONResponse:
    gate = services(request).gate
    view = await run_in_threadpool(review_view, IndexStore(gate), IndexStore(gate, access_context(request)), task_id)
    return JSONResponse(view.as_json())


def _enum_values(item: Any) -> dict[str, Any]:
    return {"method": item.method.value, "status": item.status.value}
