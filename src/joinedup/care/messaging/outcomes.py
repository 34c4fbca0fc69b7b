"""The OperationOutcomes a BaRS receiver answers with, shaped as the standard's examples are
(`specification/examples/OperationOutcome/REC/*.json`): one issue with the FHIR issue code, the BaRS error code in
`details` (system https://fhir.nhs.uk/Codesystem/http-error-codes) and the HTTP status that goes with it.

Which refusal is which (decision 0502):
- 400 REC_BAD_REQUEST: the message is malformed — `structure` (not a message Bundle), `required` (an element the
  standard requires is missing), `value` (an identifier in the wrong format, such as an NHS number failing its
  Modulo 11 check, or a code from the wrong system), `invalid` (a reference that does not resolve in the Bundle),
  `invariant` (a combination the workflow does not define, such as an update that neither cancels nor re-refers).
- 404 REC_NOT_FOUND `not-found`: the receiving service, the person or the referral an update names is not here.
- 409 REC_CONFLICT `duplicate`: the message was processed before; `conflict`: the referral's state here does not
  allow the change (cancelling a referral that is no longer active).
- 501 REC_NOT_IMPLEMENTED `not-supported`: an event or reason this receiver does not implement (bookings, delete).
- 500 REC_SERVER_ERROR `exception`: anything unexpected; the transaction was rolled back, so nothing was written.
"""

from __future__ import annotations

import uuid
from typing import Any

from joinedup.fhir.errors import FhirError

HTTP_ERROR_CODES = "https://fhir.nhs.uk/Codesystem/http-error-codes"
OUTCOME_PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-OperationOutcome"

BARS_CODE_OF_STATUS = {
    400: "REC_BAD_REQUEST",
    401: "REC_UNAUTHORIZED",
    403: "REC_FORBIDDEN",
    404: "REC_NOT_FOUND",
    406: "REC_NOT_ACCEPTABLE",
    408: "REC_TIMEOUT",
    409: "REC_CONFLICT",
    412: "REC_CONFLICT",  # the referral changed here between our read and our write (If-Match)
    413: "REC_BAD_REQUEST",
    422: "REC_UNPROCESSABLE_ENTITY",
    500: "REC_SERVER_ERROR",
    501: "REC_NOT_IMPLEMENTED",
    503: "REC_SERVICE_UNAVAILABLE",
}


class Refused(FhirError):
    """A message this receiver refuses: the HTTP status, the FHIR issue code and where in the message."""

    def __init__(self, status: int, code: str, message: str, location: str | None = None) -> None:
        super().__init__(message, status=status, code=code, location=location)


def bad_request(code: str, message: str, location: str) -> Refused:
    return Refused(400, code, message, location)


def not_found(message: str, location: str | None = None) -> Refused:
    return Refused(404, "not-found", message, location)


def outcome(status: int, code: str, diagnostics: str, location: str | None = None) -> dict[str, Any]:
    """One OperationOutcome as BaRS shows them; `expression` says where in the message, when we know."""
    issue: dict[str, Any] = {
        "severity": "error",
        "code": code,
        "details": {
            "coding": [{"system": HTTP_ERROR_CODES, "code": BARS_CODE_OF_STATUS.get(status, "REC_SERVER_ERROR")}]
        },
        "diagnostics": diagnostics,
    }
    if location:
        issue["expression"] = [location]
    return {
        "resourceType": "OperationOutcome",
        "id": str(uuid.uuid4()),
        "meta": {"profile": [OUTCOME_PROFILE]},
        "issue": [issue],
    }


def outcome_of(error: FhirError) -> dict[str, Any]:
    """Any platform error (a refusal of ours, the gate's 403, a body too large, JSON that does not parse) in the
    BaRS shape, keeping its status, issue code and location."""
    return outcome(error.status, error.code, error.message, error.location)


def server_error() -> dict[str, Any]:
    return outcome(500, "exception", "The message could not be processed; nothing from it was recorded. Try again.")
