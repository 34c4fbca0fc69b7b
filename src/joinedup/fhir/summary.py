"""_summary and _elements: cut a resource down to what the client asked for, marked SUBSETTED (R4 3.1.1.5.10)."""

from __future__ import annotations

from typing import Any

SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"}
_ALWAYS = ("resourceType", "id", "meta")
# Elements marked isSummary in R4 for the types people read most; others fall back to the common core.
_SUMMARY_ELEMENTS: dict[str, tuple[str, ...]] = {
    "Patient": (
        "identifier",
        "active",
        "name",
        "telecom",
        "gender",
        "birthDate",
        "deceasedBoolean",
        "deceasedDateTime",
        "address",
        "managingOrganization",
        "link",
    ),
    "Condition": (
        "identifier",
        "clinicalStatus",
        "verificationStatus",
        "category",
        "severity",
        "code",
        "bodySite",
        "subject",
        "encounter",
        "onsetDateTime",
        "onsetPeriod",
        "abatementDateTime",
        "recordedDate",
    ),
    "Observation": (
        "identifier",
        "status",
        "category",
        "code",
        "subject",
        "encounter",
        "effectiveDateTime",
        "effectivePeriod",
        "issued",
        "valueQuantity",
        "valueCodeableConcept",
        "valueString",
    ),
    "Encounter": (
        "identifier",
        "status",
        "class",
        "type",
        "serviceType",
        "priority",
        "subject",
        "episodeOfCare",
        "participant",
        "period",
        "serviceProvider",
    ),
}
_COMMON_SUMMARY = ("identifier", "status", "code", "subject", "patient", "date", "period", "name")


def _mark(resource: dict[str, Any]) -> dict[str, Any]:
    meta = dict(resource.get("meta") or {})
    meta["tag"] = [*(meta.get("tag") or []), SUBSETTED]
    resource["meta"] = meta
    return resource


def with_elements(resource: dict[str, Any], elements: tuple[str, ...]) -> dict[str, Any]:
    keep = set(elements) | set(_ALWAYS)
    return _mark({k: v for k, v in resource.items() if k in keep})


def summarised(resource: dict[str, Any], mode: str) -> dict[str, Any]:
    """mode: 'true' (summary elements), 'text' (text and mandatory), 'data' (all but text)."""
    if mode == "data":
        return _mark({k: v for k, v in resource.items() if k != "text"})
    if mode == "text":
        return _mark({k: v for k, v in resource.items() if k in {*_ALWAYS, "text"}})
    names = _SUMMARY_ELEMENTS.get(resource.get("resourceType", ""), _COMMON_SUMMARY)
    return _mark({k: v for k, v in resource.items() if k in {*_ALWAYS, *names}})


def shape(resource: dict[str, Any], summary: str | None, elements: tuple[str, ...] | None) -> dict[str, Any]:
    if elements:
        return with_elements(resource, elements)
    if summary and summary != "count":
        return summarised(resource, summary)
    return resource
