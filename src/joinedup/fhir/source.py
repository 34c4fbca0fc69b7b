"""Which partner organisation a resource came from: meta.source plus a tag, because the record is a union."""

from __future__ import annotations

from typing import Any

SOURCE_TAG_SYSTEM = "https://joinedup.example/fhir/CodeSystem/source-organisation"
SOURCE_URI_PREFIX = "https://joinedup.example/source/"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"


def source_of(resource: dict[str, Any]) -> str | None:
    """The resource's meta.source, or the code of its source-organisation tag, or None."""
    meta = resource.get("meta") or {}
    source = meta.get("source")
    if isinstance(source, str) and source:
        return source
    for tag in meta.get("tag") or []:
        if isinstance(tag, dict) and tag.get("system") == SOURCE_TAG_SYSTEM and tag.get("code"):
            return f"{SOURCE_URI_PREFIX}{tag['code']}"
    return None


def stamp_source(
    resource: dict[str, Any], source_uri: str, org_code: str | None = None, name: str | None = None
) -> None:
    """Record the partner organisation on a resource that does not say where it came from."""
    meta = resource.setdefault("meta", {})
    meta.setdefault("source", source_uri)
    if org_code is None:
        return
    tags = meta.setdefault("tag", [])
    if not any(isinstance(t, dict) and t.get("system") == SOURCE_TAG_SYSTEM for t in tags):
        tag = {"system": SOURCE_TAG_SYSTEM, "code": org_code}
        if name:
            tag["display"] = name
        tags.append(tag)


def ods_code_of(organisation: dict[str, Any]) -> str | None:
    """An Organization's ODS code (its identifier in the ODS system), or None."""
    for identifier in organisation.get("identifier") or []:
        if isinstance(identifier, dict) and identifier.get("system") == ODS_SYSTEM and identifier.get("value"):
            return str(identifier["value"])
    return None
