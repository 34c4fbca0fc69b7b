"""One exception hierarchy for the whole platform, mapped once to an OperationOutcome (in `api/`).

Each error knows its HTTP status, its OperationOutcome issue code and where the problem is (a FHIRPath-like
location, e.g. ``Patient.name[0].family``), so that every layer can raise without knowing about HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found: what, where, how bad (OperationOutcome.issue)."""

    diagnostics: str
    code: str = "invalid"
    severity: str = "error"
    location: str | None = None


@dataclass
class FhirError(Exception):
    """Base class: every error the platform reports to a client."""

    message: str
    status: int = 400
    code: str = "invalid"
    location: str | None = None
    issues: list[Issue] = field(default_factory=list)

    def __post_init__(self) -> None:
        Exception.__init__(self, self.message)

    def all_issues(self) -> list[Issue]:
        """The issues to report; the message itself when none were itemised."""
        if self.issues:
            return list(self.issues)
        return [Issue(diagnostics=self.message, code=self.code, location=self.location)]


class InvalidRequest(FhirError):
    """The request itself is malformed (400)."""


class InvalidResource(FhirError):
    """Content breaks the R4 structure or a business rule (400, or 422 when asked for)."""


class UnknownResourceType(FhirError):
    """A resource type R4 does not define (404)."""

    def __init__(self, resource_type: str) -> None:
        super().__init__(f"Resource type '{resource_type}' is not defined in FHIR R4", status=404, code="not-supported")


class NotFound(FhirError):
    """No such resource or version (404)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=404, code="not-found")


class Gone(FhirError):
    """The resource was deleted (410)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=410, code="deleted")


class Conflict(FhirError):
    """A version conflict or duplicate (409)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=409, code="conflict")


class PreconditionFailed(FhirError):
    """A stale If-Match or an ambiguous conditional operation (412)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=412, code="conflict")


class Forbidden(FhirError):
    """The access gate refused (403)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=403, code="forbidden")


class PayloadTooLarge(FhirError):
    """A request body over the configured limit (413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"Request body exceeds the limit of {limit} bytes", status=413, code="too-costly")


class UnprocessableEntity(FhirError):
    """Valid FHIR that cannot be processed, e.g. a reference to nothing (422)."""

    def __init__(self, message: str, location: str | None = None) -> None:
        super().__init__(message, status=422, code="processing", location=location)


class Unauthorized(FhirError):
    """No credentials, or credentials that are not (or no longer) valid: 401 (a bearer token is needed)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=401, code="login")
