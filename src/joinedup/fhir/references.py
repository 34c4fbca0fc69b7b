"""Reading FHIR references: 'Patient/123', 'Patient/123/_history/2', absolute URLs, 'urn:uuid:…', '#contained'."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from .resource_types import R4_RESOURCE_TYPES

_RELATIVE = re.compile(
    r"^(?:(?P<base>https?://\S+?)/)?(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})(?:/_history/(?P<vid>[^/]+))?$"
)


@dataclass(frozen=True, slots=True)
class ParsedReference:
    resource_type: str
    resource_id: str
    version_id: str | None = None
    base: str | None = None  # set when the reference is an absolute URL to some server


def parse_reference(text: str) -> ParsedReference | None:
    """A reference to a typed resource, or None for contained ('#x'), urn: and unrecognised references."""
    if not text or text.startswith("#") or text.startswith("urn:"):
        return None
    match = _RELATIVE.match(text)
    if match is None or match.group("type") not in R4_RESOURCE_TYPES:
        return None
    return ParsedReference(match.group("type"), match.group("id"), match.group("vid"), match.group("base"))


def is_conditional(text: str) -> bool:
    """'Patient?identifier=…' — a conditional reference, resolved by search inside a transaction."""
    head, sep, _ = text.partition("?")
    return bool(sep) and head in R4_RESOURCE_TYPES


def reference_holders(node: object, path: str) -> Iterator[tuple[str, dict[str, object]]]:
    """Every JSON object holding a string 'reference', with its FHIRPath-like location (contained ones too)."""
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            yield f"{path}.reference", node
        for key, value in node.items():
            if key != "reference":
                yield from reference_holders(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from reference_holders(item, f"{path}[{index}]")
