"""R4 element cardinality and types, read from the fhir.resources (R4B) models, for the view compiler's fast path.

In FHIR JSON an element that may repeat is always an array and one that may not never is, so when the definition
is known a chain of steps is one JSON path: `subject.reference` is `$.subject.reference`, and
`type.coding.code` is `$.type[*].coding[*].code`. Unknown types or elements answer None and the compiler falls
back to its generic plan (which inspects each value's JSON type at run time).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

_COMPLEX_TYPE = re.compile(r"\babc\.(\w+?)Type\b")
_LIST = re.compile(r"\b(List|list)\[")
# Abstract or polymorphic types say nothing about a value's own elements.
_OPEN_TYPES = {"Resource", "DomainResource", "FHIRPrimitiveExtension"}


@dataclass(frozen=True)
class Element:
    repeats: bool
    type_name: str  # the complex type to navigate further, "" for a primitive (navigation stops there)


@cache
def _fields(type_name: str) -> dict[str, str] | None:
    """Element name -> its annotation text, or None when the type is not an R4 type."""
    try:
        model: Any = get_fhir_model_class(type_name)
    except (KeyError, ValueError, AttributeError, ImportError):
        return None
    return {str(f.alias): str(f.annotation) for f in model.model_fields.values() if f.alias}


@cache
def element(type_name: str, name: str) -> Element | None:
    """The element `name` of the R4 type `type_name`, or None when either is unknown."""
    if not type_name or type_name in _OPEN_TYPES or name.startswith("_"):
        return None
    fields = _fields(type_name)
    if fields is None or name not in fields:
        return None
    annotation = fields[name]
    complex_type = _COMPLEX_TYPE.search(annotation)
    child = complex_type.group(1) if complex_type else ""
    if child in _OPEN_TYPES:
        return None
    return Element(bool(_LIST.search(annotation)), child)


def is_known_type(type_name: str) -> bool:
    return bool(type_name) and type_name not in _OPEN_TYPES and _fields(type_name) is not None
