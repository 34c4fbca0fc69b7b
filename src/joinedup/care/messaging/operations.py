"""This sub-domain's FHIR $operations, declared once (decision 0314) and registered by care/install.py.

`POST /fhir/$process-message` (system level, capability message.process): a BaRS message Bundle in; a
servicerequest-response message Bundle out (200), or the OperationOutcome the standard's examples show for a
refusal (decision 0502). The table's guard refuses a caller without the capability (403) before anything is read.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from joinedup.api.body import read_resource
from joinedup.api.deps import handle, services
from joinedup.api.operations import Operation, Parameter
from joinedup.api.responses import fhir_response
from joinedup.care.permissions import MESSAGE_PROCESS
from joinedup.fhir.errors import FhirError

from .outcomes import outcome_of, server_error
from .receive import receive
from .response import response_message

log = logging.getLogger(__name__)


MIRRORED = ("X-Request-Id", "X-Correlation-Id")  # the standard: mirrored back when the sender supplies them


async def process_message(request: Request) -> Response:
    caller = handle(request)
    found = services(request)
    mirrored = {name: request.headers[name] for name in MIRRORED if name in request.headers}
    try:
        bundle = await read_resource(request, found.settings.max_request_bytes)
        message, referral, service = await run_in_threadpool(receive, caller, bundle)
    except FhirError as error:  # a refusal of ours, or the platform's (the gate, the body): nothing was written
        return fhir_response(outcome_of(error), status=error.status, headers=mirrored)
    except Exception as error:  # the standard's REC_SERVER_ERROR; the transaction was rolled back whole
        log.error("BaRS message not processed (%s)", type(error).__name__)  # never identifiers or content
        return fhir_response(server_error(), status=500, headers=mirrored)
    answer = response_message(message, referral, service, found.settings.fhir_base)
    return fhir_response(answer, headers=mirrored)


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "process-message", (), "system", "POST",
        (Parameter("content", "Bundle", "A BaRS message Bundle (servicerequest-request)", min=1),),
        MESSAGE_PROCESS, process_message, "http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message",
        "Receive an NHS Booking and Referral Standard (BaRS) referral message: the receiving service gets a "
        "ServiceRequest and a Task; the answer is a servicerequest-response message",
    ),
)  # fmt: skip
