"""Parse a FHIR search (query parameters) into a typed request. Pure: the store compiles it into SQL.

Handles modifiers, prefixes, OR by comma and AND by repetition, chains (`subject:Patient.name=`), reverse chains
(`_has:Observation:patient:code=`), and the result parameters (_sort, _count, _offset, _total, _summary,
_elements, _include, _revinclude). Unknown parameters are ignored and left out of the self link, unless the client
asked for `Prefer: handling=strict`, when they are a 400.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from .errors import InvalidRequest
from .resource_types import R4_RESOURCE_TYPES
from .search_parameters import SearchParameter, parameters_for

PREFIXES = frozenset({"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"})
_PREFIXED_TYPES = frozenset({"date", "number", "quantity"})
_PREFIX_RE = re.compile(r"^(eq|ne|gt|lt|ge|le|sa|eb|ap)(?=[-+0-9.])")
MODIFIERS_BY_TYPE: dict[str, frozenset[str]] = {
    "string": frozenset({"exact", "contains", "missing"}),
    "token": frozenset({"missing", "not", "text", "of-type", "in", "not-in", "below", "above"}),
    "reference": frozenset({"missing", "identifier", "type"}),
    "date": frozenset({"missing"}),
    "number": frozenset({"missing"}),
    "quantity": frozenset({"missing"}),
    "uri": frozenset({"missing", "below", "above", "exact"}),
    "special": frozenset({"missing"}),
}
UNSUPPORTED_MODIFIERS = frozenset({"in", "not-in", "of-type", "below", "above", "type"})
_URI_HIERARCHY = frozenset({"below", "above"})
RESULT_PARAMETERS = frozenset(
    {"_sort", "_count", "_offset", "_total", "_summary", "_elements", "_include", "_revinclude", "_format", "_pretty"}
)
MAX_COUNT = 1000
DEFAULT_COUNT = 50
TotalMode = Literal["none", "estimate", "accurate"]


@dataclass(frozen=True, slots=True)
class SearchValue:
    """One OR-alternative: the prefix (for ordered types) and the raw text with escapes removed."""

    prefix: str
    text: str


@dataclass(frozen=True, slots=True)
class ParamCriterion:
    """`param[:modifier]=v1,v2` — true when any value matches."""

    parameter: SearchParameter
    modifier: str | None
    values: tuple[SearchValue, ...]


@dataclass(frozen=True, slots=True)
class ChainCriterion:
    """`reference:Type.inner=…` — the reference points at a Type resource matching the inner criterion."""

    reference: SearchParameter
    target_type: str
    inner: Criterion


@dataclass(frozen=True, slots=True)
class HasCriterion:
    """`_has:Source:reference:inner=…` — some Source resource refers to this one and matches the inner criterion."""

    source_type: str
    reference: SearchParameter
    inner: Criterion


Criterion = ParamCriterion | ChainCriterion | HasCriterion


@dataclass(frozen=True, slots=True)
class IncludeSpec:
    """_include (source → target) or _revinclude (source refers to the matches); param None means '*'."""

    source_type: str
    parameter: SearchParameter | None
    target_type: str | None
    iterate: bool


@dataclass(frozen=True, slots=True)
class SortKey:
    parameter: SearchParameter
    descending: bool


@dataclass
class SearchRequest:
    resource_type: str
    criteria: list[Criterion] = field(default_factory=list)
    sort: list[SortKey] = field(default_factory=list)
    count: int = DEFAULT_COUNT
    offset: int = 0
    # None: not asked. Bundle.total is then given only when it costs nothing (the page reaches the last match);
    # counting every match on every page was most of a large search's cost (decision 0013).
    total: TotalMode | None = None
    summary: str | None = None
    elements: tuple[str, ...] | None = None
    includes: list[IncludeSpec] = field(default_factory=list)
    revincludes: list[IncludeSpec] = field(default_factory=list)
    used: list[tuple[str, str]] = field(default_factory=list)  # what the self link shows
    ignored: list[str] = field(default_factory=list)


def split_values(text: str) -> list[str]:
    """Split on commas that are not escaped with a backslash, then unescape (\\, \\$ \\|)."""
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _values(parameter: SearchParameter, modifier: str | None, text: str, name: str) -> tuple[SearchValue, ...]:
    values: list[SearchValue] = []
    for raw in split_values(text):
        if raw == "":
            raise InvalidRequest(f"Search parameter '{name}' has an empty value", location=name)
        prefix = "eq"
        if parameter.type in _PREFIXED_TYPES and modifier != "missing":
            match = _PREFIX_RE.match(raw)
            if match:
                prefix, raw = match.group(1), raw[2:]
        values.append(SearchValue(prefix, raw))
    if modifier == "missing" and any(v.text not in {"true", "false"} for v in values):
        raise InvalidRequest(f"':missing' takes true or false in '{name}'", location=name)
    return tuple(values)


def _lookup(resource_type: str, name: str, strict: bool) -> SearchParameter | None:
    parameter = parameters_for(resource_type).get(name)
    if parameter is None and strict:
        raise InvalidRequest(f"Unknown search parameter '{name}' for {resource_type}", location=name)
    return parameter


def _reference_target(reference: SearchParameter, explicit: str | None, name: str) -> str:
    if explicit is not None:
        if explicit not in R4_RESOURCE_TYPES:
            raise InvalidRequest(f"'{explicit}' is not an R4 resource type in '{name}'", location=name)
        if reference.targets and explicit not in reference.targets:
            raise InvalidRequest(f"'{reference.name}' cannot refer to {explicit} in '{name}'", location=name)
        return explicit
    if len(reference.targets) == 1:
        return reference.targets[0]
    raise InvalidRequest(
        f"Chained parameter '{name}' must name the target type (e.g. {reference.name}:Patient.…)", location=name
    )


def parse_criterion(resource_type: str, key: str, text: str, strict: bool) -> Criterion | None:
    """One query parameter as a criterion; None when it is unknown and the handling is lenient."""
    if key.startswith("_has:"):
        return _parse_has(resource_type, key, text, strict)
    head, dot, rest = key.partition(".")
    name, _, modifier_text = head.partition(":")
    modifier = modifier_text or None
    parameter = _lookup(resource_type, name, strict)
    if parameter is None:
        return None
    if dot:
        if parameter.type != "reference":
            raise InvalidRequest(f"'{name}' is not a reference parameter and cannot be chained", location=key)
        target = _reference_target(parameter, modifier, key)
        inner = parse_criterion(target, rest, text, True)
        assert inner is not None  # strict lookups never return None
        return ChainCriterion(parameter, target, inner)
    if modifier is not None:
        if parameter.type == "reference" and modifier in R4_RESOURCE_TYPES:
            _reference_target(parameter, modifier, key)
        elif modifier not in MODIFIERS_BY_TYPE.get(parameter.type, frozenset()):
            raise InvalidRequest(
                f"Modifier ':{modifier}' is not valid for {parameter.type} parameter '{name}'", location=key
            )
        elif modifier in UNSUPPORTED_MODIFIERS and not (parameter.type == "uri" and modifier in _URI_HIERARCHY):
            # :below/:above are terminology modifiers on tokens (unsupported) but path-segment matches on uris,
            # which the store implements; refusing them for uri made `url:below=` and `_profile:below=` a 400.
            raise InvalidRequest(f"Modifier ':{modifier}' is not supported by this server", location=key)
    return ParamCriterion(parameter, modifier, _values(parameter, modifier, text, key))


def _parse_has(resource_type: str, key: str, text: str, strict: bool) -> Criterion | None:
    parts = key.split(":", 3)
    if len(parts) < 4:
        raise InvalidRequest(f"'{key}' must have the form _has:Type:reference:parameter", location=key)
    _, source_type, reference_name, inner_key = parts
    if source_type not in R4_RESOURCE_TYPES:
        raise InvalidRequest(f"'{source_type}' is not an R4 resource type in '{key}'", location=key)
    # Name the whole parameter the client sent: `_lookup` would report only the inner name ('patient').
    reference = parameters_for(source_type).get(reference_name)
    if reference is None or reference.type != "reference":
        raise InvalidRequest(f"'{reference_name}' is not a reference parameter of {source_type}", location=key)
    if reference.targets and resource_type not in reference.targets:
        raise InvalidRequest(f"{source_type}.{reference_name} cannot refer to {resource_type}", location=key)
    inner = parse_criterion(source_type, inner_key, text, strict)
    if inner is None:
        return None
    return HasCriterion(source_type, reference, inner)


def _parse_int(name: str, text: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InvalidRequest(f"'{name}' must be a whole number", location=name) from None
    if value < low:
        raise InvalidRequest(f"'{name}' must be at least {low}", location=name)
    return min(value, high)


def _parse_include(resource_type: str, name: str, text: str, reverse: bool) -> IncludeSpec:
    parts = text.split(":")
    if len(parts) < 2 or len(parts) > 3 or parts[0] not in R4_RESOURCE_TYPES:
        raise InvalidRequest(f"'{name}={text}' must be Type:parameter[:TargetType]", location=name)
    source_type, param_name = parts[0], parts[1]
    target_type = parts[2] if len(parts) == 3 else None
    if target_type is not None and target_type not in R4_RESOURCE_TYPES:
        raise InvalidRequest(f"'{target_type}' is not an R4 resource type in '{name}'", location=name)
    iterate = name.endswith(":iterate") or name.endswith(":recurse")
    if not iterate and not reverse and source_type != resource_type:
        raise InvalidRequest(f"_include must start with {resource_type} unless it is :iterate", location=name)
    if param_name == "*":
        return IncludeSpec(source_type, None, target_type, iterate)
    parameter = parameters_for(source_type).get(param_name)
    if parameter is None or parameter.type != "reference":
        raise InvalidRequest(f"'{param_name}' is not a reference parameter of {source_type}", location=name)
    return IncludeSpec(source_type, parameter, target_type, iterate)


def _parse_sort(resource_type: str, text: str) -> list[SortKey]:
    keys: list[SortKey] = []
    for item in text.split(","):
        descending = item.startswith("-")
        name = item[1:] if descending else item
        parameter = parameters_for(resource_type).get(name)
        if parameter is None or parameter.type in {"composite", "special", "reference"}:
            raise InvalidRequest(f"Cannot sort by '{name}'", location="_sort")
        keys.append(SortKey(parameter, descending))
    return keys


def _apply_result_parameter(request: SearchRequest, name: str, text: str) -> None:
    base = name.split(":")[0]
    if base == "_count":
        # Paging links add _count and _offset themselves; keeping them in `used` as well wrote each twice into
        # every self/next/previous link (`?_count=2&_offset=2&_count=2&_offset=4`), correct only by accident.
        request.count = _parse_int(name, text, 0, MAX_COUNT)
        return
    if base == "_offset":
        request.offset = _parse_int(name, text, 0, 10**9)
        return
    if base == "_total":
        if text not in {"none", "estimate", "accurate"}:
            raise InvalidRequest("_total must be none, estimate or accurate", location="_total")
        request.total = text  # type: ignore[assignment]
    elif base == "_summary":
        if text not in {"true", "false", "text", "data", "count"}:
            raise InvalidRequest("_summary must be true, false, text, data or count", location="_summary")
        request.summary = None if text == "false" else text
    elif base == "_elements":
        request.elements = tuple(e.strip() for e in text.split(",") if e.strip())
    elif base == "_sort":
        request.sort = _parse_sort(request.resource_type, text)
    elif base == "_include":
        request.includes.append(_parse_include(request.resource_type, name, text, reverse=False))
    elif base == "_revinclude":
        request.revincludes.append(_parse_include(request.resource_type, name, text, reverse=True))
    else:  # _format, _pretty: presentation only
        return
    request.used.append((name, text))


def _localised(criterion: Criterion, local_base: str) -> Criterion:
    """A reference on this server's own base ('https://us/fhir/Patient/1') is the local 'Patient/1' (R4 3.1.1.5.6)."""
    if isinstance(criterion, ChainCriterion):
        return replace(criterion, inner=_localised(criterion.inner, local_base))
    if isinstance(criterion, HasCriterion):
        return replace(criterion, inner=_localised(criterion.inner, local_base))
    if criterion.parameter.type != "reference" or criterion.modifier == "identifier":
        return criterion
    values = tuple(replace(v, text=v.text.removeprefix(local_base)) for v in criterion.values)
    return replace(criterion, values=values)


def parse_search(
    resource_type: str, params: Sequence[tuple[str, str]], strict: bool = False, local_base: str | None = None
) -> SearchRequest:
    """Turn query parameters into a SearchRequest; raise InvalidRequest (400) naming the bad parameter.

    `local_base` is this server's FHIR base URL: references written against it are treated as local ones.
    """
    request = SearchRequest(resource_type=resource_type)
    for key, text in params:
        if key.split(":")[0] in RESULT_PARAMETERS:
            _apply_result_parameter(request, key, text)
            continue
        criterion = parse_criterion(resource_type, key, text, strict)
        if criterion is None:
            request.ignored.append(key)
            continue
        if local_base:
            criterion = _localised(criterion, local_base.rstrip("/") + "/")
        request.criteria.append(criterion)
        request.used.append((key, text))
    return request
