"""The one place errors become OperationOutcomes with the right HTTP status."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from joinedup.fhir.errors import FhirError, Issue

from .responses import fhir_response


def operation_outcome(issues: list[Issue]) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": issue.severity,
                "code": issue.code,
                "diagnostics": issue.diagnostics,
                **({"expression": [issue.location]} if issue.location else {}),
            }
            for issue in issues
        ],
    }


def outcome_of(error: FhirError) -> dict[str, Any]:
    return operation_outcome(error.all_issues())


def information(message: str) -> dict[str, Any]:
    return operation_outcome([Issue(message, code="informational", severity="information")])


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(FhirError)
    async def _fhir_error(_request: Request, error: FhirError) -> Response:
        return fhir_response(outcome_of(error), status=error.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, error: RequestValidationError) -> Response:
        issues = [Issue(str(e.get("msg")), location=".".join(str(p) for p in e.get("loc", ()))) for e in error.errors()]
        return fhir_response(operation_outcome(issues), status=400)

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, _error: IntegrityError) -> Response:
        # Two writers raced to create the same resource: the loser's transaction was rolled back whole.
        issue = Issue("A concurrent write changed this resource first; retry the request", code="conflict")
        return fhir_response(operation_outcome([issue]), status=409)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        if not request.url.path.startswith("/fhir"):
            return Response(str(error.detail), status_code=error.status_code, headers=error.headers)
        code = {404: "not-found", 405: "not-supported", 413: "too-costly"}.get(error.status_code, "processing")
        return fhir_response(operation_outcome([Issue(str(error.detail), code=code)]), status=error.status_code)
