"""R4 structural validation with a maintained library (fhir.resources), plus the UK rules we enforce on write.

fhir.resources ships R4B models; R4B kept every R4 element of the resources a care record holds, so they
validate R4 content. The 18 R4 types that R4B replaced (MedicinalProduct*, Substance* specifications, the
evidence syntheses) are checked for the shape every DomainResource shares. See docs/decisions/0002.

Speed: pydantic validation runs at a couple of thousand resources a second, too slow for bulk ingest. A fast
pre-check compiled from the same models (``fast_schema``) answers "valid" only when pydantic would; whenever it
cannot vouch for a resource, pydantic runs and its verdict and located issues are reported, exactly as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

import pydantic
from fhir.resources.R4B import get_fhir_model_class

from . import nhs_number
from .errors import InvalidResource, Issue, UnknownResourceType
from .fast_schema import is_known_valid
from .resource_types import R4_RESOURCE_TYPES

ID_PATTERN = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_NHS_NUMBER_TYPES = frozenset({"Patient", "RelatedPerson", "Person"})
_DOMAIN_RESOURCE_LISTS = ("contained", "extension", "modifierExtension")


@cache
def _model_for(resource_type: str) -> type[Any] | None:
    try:
        model: type[Any] = get_fhir_model_class(resource_type)
    except (KeyError, ValueError, AttributeError, ModuleNotFoundError):
        return None
    return model


def location_of(resource_type: str, loc: Iterable[int | str]) -> str:
    """Turn a pydantic error location into a FHIRPath-like one: ('name', 0, 'family') → Patient.name[0].family."""
    text = resource_type
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part != "__root__":
            text += f".{part}"
    return text


def _structure_issues(resource: Mapping[str, Any], resource_type: str, fast: bool) -> list[Issue]:
    model = _model_for(resource_type)
    if model is None:
        return _domain_resource_issues(resource, resource_type)
    if fast and is_known_valid(resource, resource_type):
        return []
    return _pydantic_issues(model, resource, resource_type)


def _pydantic_issues(model: type[Any], resource: Mapping[str, Any], resource_type: str) -> list[Issue]:
    """The authoritative check: fhir.resources' pydantic validation, its errors turned into located issues."""
    try:
        model.model_validate(resource)
    except pydantic.ValidationError as error:
        return [
            Issue(
                diagnostics=f"{detail['msg']} ({detail['type']})",
                code="structure" if detail["type"] in {"extra_forbidden", "missing"} else "value",
                location=location_of(resource_type, detail["loc"]),
            )
            for detail in error.errors()
        ]
    except (ValueError, TypeError) as error:  # the library raises these for some root-level checks
        return [Issue(diagnostics=str(error), code="structure", location=resource_type)]
    except KeyError as error:  # the library's lookup of an embedded resource's type (e.g. in contained) failed
        return [Issue(f"Unknown type of an embedded resource: {error}", code="structure", location=resource_type)]
    return []


def _domain_resource_issues(resource: Mapping[str, Any], resource_type: str) -> list[Issue]:
    """The shape shared by every DomainResource, for R4 types the library's R4B models do not carry."""
    issues: list[Issue] = []
    for name in _DOMAIN_RESOURCE_LISTS:
        if name in resource and not isinstance(resource[name], list):
            issues.append(Issue(f"'{name}' must be an array", code="structure", location=f"{resource_type}.{name}"))
    for name in ("meta", "text"):
        if name in resource and not isinstance(resource[name], dict):
            issues.append(Issue(f"'{name}' must be an object", code="structure", location=f"{resource_type}.{name}"))
    return issues


def _nhs_number_issues(resource: Mapping[str, Any], resource_type: str) -> list[Issue]:
    if resource_type not in _NHS_NUMBER_TYPES:
        return []
    issues: list[Issue] = []
    for index, identifier in enumerate(resource.get("identifier") or []):
        if not isinstance(identifier, dict) or identifier.get("system") != nhs_number.NHS_NUMBER_SYSTEM:
            continue
        value = identifier.get("value")
        if not isinstance(value, str) or not nhs_number.is_valid(value):
            issues.append(
                Issue(
                    "NHS number fails the Modulo 11 check",
                    code="value",
                    location=f"{resource_type}.identifier[{index}].value",
                )
            )
    return issues


def validation_issues(resource: Any, expected_type: str | None = None, *, fast: bool = True) -> list[Issue]:
    """Every problem with a resource as R4 content, with its location; empty when it is valid.

    `fast` lets the pre-check (fast_schema) pass a resource it knows is valid without pydantic; with fast=False
    every resource goes through pydantic, the authoritative check the pre-check must agree with."""
    if not isinstance(resource, dict):
        return [Issue("A resource must be a JSON object", code="structure", location="$")]
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str):
        return [Issue("The resource has no resourceType", code="required", location="resourceType")]
    if resource_type not in R4_RESOURCE_TYPES:
        raise UnknownResourceType(resource_type)
    if expected_type is not None and resource_type != expected_type:
        return [
            Issue(
                f"resourceType '{resource_type}' does not match the URL's type '{expected_type}'",
                code="invalid",
                location="resourceType",
            )
        ]
    resource_id = resource.get("id")
    if resource_id is not None and (not isinstance(resource_id, str) or not ID_PATTERN.match(resource_id)):
        return [Issue("id must be 1-64 characters of A-Z a-z 0-9 - .", code="value", location=f"{resource_type}.id")]
    return _structure_issues(resource, resource_type, fast) + _nhs_number_issues(resource, resource_type)


def validate_resource(resource: Any, expected_type: str | None = None) -> None:
    """Raise InvalidResource (listing every issue) unless the resource is valid R4 content."""
    issues = validation_issues(resource, expected_type)
    if issues:
        first = issues[0]
        raise InvalidResource(first.diagnostics, location=first.location, issues=issues)
