"""Whether a search parameter can hold more than one value in one resource (from the R4 element definitions).

The search compiler needs this to join several criteria on one parameter into a single index lookup: with at
most one value per resource, `date=ge2020-07-22&date=le2020-07-22` means "the one date lies in this day", which
one bounded index scan answers, instead of "some date is after and some date is before" (two huge sets).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from .search_parameters import SearchParameter

_COMPLEX_TYPE = re.compile(r"\babc\.(\w+?)Type\b")
_LIST = re.compile(r"\b(List|list)\[")


def _field(model: Any, element: str) -> Any | None:
    for field in model.model_fields.values():
        if field.alias == element:
            return field
    return None


def _path_single(resource_type: str, path: str) -> tuple[bool, str | None]:
    """Whether every step of the path is 0..1, and the choice group ([x]) its first step belongs to."""
    try:
        model: Any = get_fhir_model_class(resource_type)
    except (KeyError, ValueError, AttributeError):
        return False, None
    group: str | None = None
    steps = path.split(".")
    for position, element in enumerate(steps):
        field = _field(model, element)
        if field is None:
            return False, None
        annotation = str(field.annotation)
        if _LIST.search(annotation):
            return False, None
        if position == 0:
            extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
            found = extra.get("one_of_many")
            group = str(found) if found else element
        if position + 1 < len(steps):
            complex_type = _COMPLEX_TYPE.search(annotation)
            if complex_type is None:
                return False, None
            model = get_fhir_model_class(complex_type.group(1))
    return True, group


@cache
def _single_valued(resource_type: str, paths: tuple[str, ...]) -> bool:
    groups: set[str | None] = set()
    for path in paths:
        single, group = _path_single(resource_type, path)
        if not single:
            return False
        groups.add(group)
    # Several paths are still one value only when they are the variants of one choice element (onset[x]).
    return len(groups) <= 1


def single_valued(parameter: SearchParameter) -> bool:
    """True when a resource can carry at most one value of the parameter (unknown paths count as many)."""
    if not parameter.paths:
        return False
    return _single_valued(parameter.resource_type, parameter.paths)
