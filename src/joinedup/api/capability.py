"""The CapabilityStatement at /fhir/metadata: exactly what this server supports, built from the same tables."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from joinedup import __version__
from joinedup.build import build_date
from joinedup.fhir.resource_types import NOT_STORED, R4_RESOURCE_TYPES
from joinedup.fhir.search_parameters import indexed_resource_types, parameters_for
from joinedup.fhir.search_request import MODIFIERS_BY_TYPE, UNSUPPORTED_MODIFIERS

from .deps import services
from .operations import Operation, operations_on
from .public import public
from .responses import fhir_response

router = APIRouter()
_INTERACTIONS = [
    "read",
    "vread",
    "update",
    "patch",
    "delete",
    "history-instance",
    "history-type",
    "create",
    "search-type",
]
_SEARCHABLE_TYPES = frozenset({"string", "token", "reference", "date", "number", "quantity", "uri"})


def _search_params(resource_type: str) -> list[dict[str, Any]]:
    return [
        {
            "name": p.name,
            "definition": p.url,
            "type": p.type if p.type != "special" else "token",
            "documentation": p.expression,
        }
        for p in sorted(parameters_for(resource_type).values(), key=lambda p: p.name)
        if p.type in _SEARCHABLE_TYPES or p.name == "deceased"
    ]


def _resource_entry(resource_type: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": resource_type,
        "interaction": [{"code": code} for code in _INTERACTIONS],
        "versioning": "versioned-update",
        "readHistory": True,
        "updateCreate": True,
        "conditionalCreate": True,
        "conditionalUpdate": True,
        "conditionalDelete": "single",
        "referencePolicy": ["literal", "logical", "local"],
        "searchParam": _search_params(resource_type),
    }
    if resource_type in indexed_resource_types():
        entry["searchInclude"] = sorted(
            f"{resource_type}:{p.name}" for p in parameters_for(resource_type).values() if p.type == "reference"
        )
        entry["searchRevInclude"] = ["*"]
    if operations := operations_on(resource_type):
        entry["operation"] = [_operation(o) for o in operations]
    return entry


def _operation(operation: Operation) -> dict[str, Any]:
    """An operation as the CapabilityStatement lists it, from the one table (api/operations.py)."""
    return {"name": operation.name, "definition": operation.definition, "documentation": operation.documentation}


def smart_security(base: str) -> dict[str, Any]:
    """rest.security: SMART on FHIR, with the token endpoint (also in .well-known/smart-configuration)."""
    token = f"{base.rsplit('/fhir', 1)[0]}/auth/token"
    authorize = f"{base.rsplit('/fhir', 1)[0]}/auth/authorize"
    return {
        "service": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                        "code": "SMART-on-FHIR",
                    }
                ]
            }
        ],
        "extension": [
            {
                "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                "extension": [{"url": "token", "valueUri": token}, {"url": "authorize", "valueUri": authorize}],
            }
        ],
        "description": "OAuth2 bearer tokens with SMART on FHIR v2 scopes (see .well-known/smart-configuration)",
    }


def capability_statement(base: str) -> dict[str, Any]:
    supported_modifiers = {t: sorted(m - UNSUPPORTED_MODIFIERS) for t, m in MODIFIERS_BY_TYPE.items()}
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": build_date(),
        "publisher": "JoinedUp",
        "kind": "instance",
        "software": {"name": "JoinedUp", "version": __version__},
        "implementation": {"description": "JoinedUp integrated health and social care record", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "patchFormat": ["application/json-patch+json"],
        "rest": [
            {
                "mode": "server",
                "security": smart_security(base),
                "documentation": "Search modifiers supported by type: "
                + "; ".join(f"{t}: {', '.join(m) or 'none'}" for t, m in sorted(supported_modifiers.items())),
                "resource": [_resource_entry(t) for t in sorted(R4_RESOURCE_TYPES - NOT_STORED)],
                "interaction": [{"code": "transaction"}, {"code": "batch"}, {"code": "history-system"}],
                "searchParam": [
                    {"name": n, "type": t}
                    for n, t in (
                        ("_count", "number"),
                        ("_offset", "number"),
                        ("_sort", "string"),
                        ("_total", "token"),
                        ("_summary", "token"),
                        ("_elements", "string"),
                        ("_include", "string"),
                        ("_revinclude", "string"),
                        ("_has", "string"),
                    )
                ],
                "operation": [_operation(o) for o in operations_on(None)],
            }
        ],
    }


@router.get("/metadata")
@public
async def metadata(request: Request) -> Response:
    return fhir_response(capability_statement(services(request).settings.fhir_base))
