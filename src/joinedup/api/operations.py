"""Every FHIR $operation this server offers, declared once (decision 0314): routing (`install_operations`), the
CapabilityStatement (api/capability.py) and the access matrix (tests/access/test_matrix.py) all read OPERATIONS.

Each declares its name, the resource types it is on (none: the system level), its level (system, type or
instance), the HTTP method, its parameters, the capability it needs (None: the gate's ordinary read and write rules
decide, as for a read or a search; a named one is checked from this table before the handler runs) and its
handler.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from joinedup.access.capabilities import Capability
from joinedup.identity.permissions import PERSON_INDEX_LINK

from . import export_routes, identity_routes, search_routes
from .deps import handle

LOCAL_DEFINITIONS = "https://joinedup.example/fhir/OperationDefinition"


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str  # a FHIR type: Reference, instant, string, …
    documentation: str
    min: int = 0
    max: str = "1"


@dataclass(frozen=True)
class Operation:
    name: str  # without the '$'
    resource_types: tuple[str, ...]  # () for a system-level operation
    level: str  # "system", "type" or "instance"
    method: str
    parameters: tuple[Parameter, ...]
    capability: Capability | None
    handler: Callable[..., Awaitable[Response]]
    definition: str  # the OperationDefinition's canonical URL
    documentation: str
    id_name: str = "resource_id"  # the handler's path parameter for the instance's id

    @property
    def paths(self) -> tuple[str, ...]:
        """The route templates under the app root (one per resource type, or one at the system level)."""
        if self.level == "system":
            return (f"/fhir/${self.name}",)
        if self.level == "type":
            return tuple(f"/fhir/{t}/${self.name}" for t in self.resource_types)
        return tuple(f"/fhir/{t}/{{{self.id_name}}}/${self.name}" for t in self.resource_types)


_SINCE = Parameter("_since", "instant", "Only resources changed since this instant")
_TYPE = Parameter("_type", "string", "Only these resource types (comma-separated)", max="*")
_EXPORT_PARAMETERS = (_SINCE, _TYPE, Parameter("_outputFormat", "string", "application/fhir+ndjson only"))
_BULK = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition"

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "accept-link", ("Task",), "instance", "POST", (), PERSON_INDEX_LINK, identity_routes.accept_link,
        f"{LOCAL_DEFINITIONS}/Task-accept-link",
        "A reviewer accepts a suggested link: the two records are one person (their Persons are merged)",
        id_name="task_id",
    ),
    Operation(
        "reject-link", ("Task",), "instance", "POST", (), PERSON_INDEX_LINK, identity_routes.reject_link,
        f"{LOCAL_DEFINITIONS}/Task-reject-link",
        "A reviewer rejects a suggested link: the records stay apart", id_name="task_id",
    ),
    Operation(
        "merge", ("Person",), "instance", "POST",
        (Parameter("other", "Reference", "The Person (Reference) to merge into this one", min=1),),
        PERSON_INDEX_LINK, identity_routes.merge, f"{LOCAL_DEFINITIONS}/Person-merge",
        "Merge another Person into this one (the other stays, inactive, pointing here)", id_name="person_id",
    ),
    Operation(
        "unmerge", ("Person",), "instance", "POST",
        (Parameter("patient", "Reference", "The Patient (Reference) to take out of this Person", min=1),),
        PERSON_INDEX_LINK, identity_routes.unmerge, f"{LOCAL_DEFINITIONS}/Person-unmerge",
        "Take one source record out of this Person: it gets a Person of its own", id_name="person_id",
    ),
    Operation(
        "everything", ("Patient",), "instance", "GET",
        (_SINCE, _TYPE, Parameter("_count", "integer", "Page size"), Parameter("_offset", "integer", "Page start")),
        None, search_routes.everything, "http://hl7.org/fhir/OperationDefinition/Patient-everything",
        "The person's whole record as the caller may see it", id_name="patient_id",
    ),
    Operation(
        "export", (), "system", "GET", _EXPORT_PARAMETERS, None, export_routes.system_export, f"{_BULK}/export",
        "Bulk export of everything the caller may see (Prefer: respond-async)",
    ),
    Operation(
        "export", ("Patient",), "type", "GET", _EXPORT_PARAMETERS, None, export_routes.patient_export,
        f"{_BULK}/patient-export", "Bulk export of the Patient compartments the caller may see",
    ),
    Operation(
        "export", ("Group",), "instance", "GET", _EXPORT_PARAMETERS, None, export_routes.group_export,
        f"{_BULK}/group-export", "Bulk export of a Group's members' compartments", id_name="group_id",
    ),
)  # fmt: skip


def guarded(operation: Operation) -> Callable[..., Awaitable[Response]]:
    """The handler as routed: when the table names a capability, the caller's handle must hold it before the handler
    runs (403, before anything is looked up, so a refusal says nothing about what exists). The wrapper keeps the
    handler's signature (`functools.wraps`), so FastAPI passes the same parameters."""
    handler, capability = operation.handler, operation.capability
    if capability is None:
        return handler

    @functools.wraps(handler)
    async def checked(*args: Any, **kwargs: Any) -> Response:
        request = kwargs.get("request")
        if not isinstance(request, Request):
            raise TypeError(f"{handler.__qualname__} must take the Request as 'request'")
        handle(request).require(capability)
        return await handler(*args, **kwargs)

    return checked


_DOMAIN_OPERATIONS: list[Operation] = []


def register_operations(*operations: Operation) -> None:
    """A domain's operations (its install() declares them once, decision 0314), joining the table before routing.
    Registering the same operation again (a second app in one process) changes nothing."""
    for operation in operations:
        if operation not in _DOMAIN_OPERATIONS:
            _DOMAIN_OPERATIONS.append(operation)


def all_operations() -> tuple[Operation, ...]:
    """The whole table: the FHIR surface's own operations, then the domains'."""
    return (*OPERATIONS, *_DOMAIN_OPERATIONS)


def install_operations(app: FastAPI) -> None:
    """Route every operation, before the generic FHIR routes whose patterns would take `/fhir/{type}/{id}/$…`."""
    for operation in all_operations():
        for path in operation.paths:
            app.add_api_route(path, guarded(operation), methods=[operation.method])


def operations_on(resource_type: str | None) -> list[Operation]:
    """The operations on one resource type (None: the system level), for the CapabilityStatement."""
    if resource_type is None:
        return [o for o in all_operations() if o.level == "system"]
    return [o for o in all_operations() if resource_type in o.resource_types]
