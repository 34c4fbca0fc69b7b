"""The FHIR R4 (4.0.1) search parameters the store indexes, read once from `data/search_parameters_r4.json`.

Each parameter keeps the specification's name, type, FHIRPath expression, URL and reference targets, plus `paths`:
the expression restricted to one resource type and rewritten in the simplified grammar of `fhir/paths.py`
(`elem(.elem)*`, one `[field=value]` filter per step, choice types spelled out as `valueQuantity`). A parameter whose
meaning the paths cannot carry alone names the rule in `special` (for example Patient `deceased`).
The common Resource parameters (`_id`, `_lastUpdated`, `_tag`, `_profile`, `_security`, `_source`) apply to every type.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Literal, cast

SearchParamType = Literal["string", "token", "reference", "date", "number", "quantity", "uri", "composite", "special"]

_TYPES: frozenset[str] = frozenset(
    ["string", "token", "reference", "date", "number", "quantity", "uri", "composite", "special"]
)
_COMMON_KEY = "Resource"
_DATA_FILE = "search_parameters_r4.json"


@dataclass(frozen=True, slots=True)
class CompositeComponent:
    param: str
    path: str


@dataclass(frozen=True, slots=True)
class SearchParameter:
    resource_type: str
    name: str
    type: SearchParamType
    paths: tuple[str, ...]
    targets: tuple[str, ...]
    expression: str
    url: str
    components: tuple[CompositeComponent, ...] = ()
    special: str | None = None


def _parameter(resource_type: str, raw: Mapping[str, Any]) -> SearchParameter:
    kind = str(raw["type"])
    if kind not in _TYPES:
        raise ValueError(f"search parameter {resource_type}.{raw['name']} has unknown type {kind!r}")
    special = raw.get("special")
    return SearchParameter(
        resource_type=resource_type,
        name=str(raw["name"]),
        type=cast(SearchParamType, kind),
        paths=tuple(str(p) for p in raw["paths"]),
        targets=tuple(str(t) for t in raw["targets"]),
        expression=str(raw["expression"]),
        url=str(raw["url"]),
        components=tuple(
            CompositeComponent(param=str(c["param"]), path=str(c["path"])) for c in raw.get("components", [])
        ),
        special=None if special is None else str(special),
    )


@cache
def _table() -> Mapping[str, Mapping[str, SearchParameter]]:
    text = resources.files("joinedup.fhir").joinpath("data", _DATA_FILE).read_text(encoding="utf-8")
    raw: dict[str, list[dict[str, Any]]] = json.loads(text)
    table: dict[str, Mapping[str, SearchParameter]] = {}
    for resource_type, params in raw.items():
        table[resource_type] = MappingProxyType({p["name"]: _parameter(resource_type, p) for p in params})
    return MappingProxyType(table)


def common_parameters() -> Mapping[str, SearchParameter]:
    """The Resource-level parameters every type has: _id, _lastUpdated, _tag, _profile, _security, _source."""
    return _table()[_COMMON_KEY]


@lru_cache(maxsize=512)
def parameters_for(resource_type: str) -> Mapping[str, SearchParameter]:
    """Every search parameter of the type, common ones included; only the common ones for a type not in the table."""
    own = _table().get(resource_type, {}) if resource_type != _COMMON_KEY else {}
    merged: dict[str, SearchParameter] = dict(common_parameters())
    merged.update(own)
    return MappingProxyType(merged)


def indexed_resource_types() -> frozenset[str]:
    """The resource types with their own parameters in the table."""
    return frozenset(k for k in _table() if k != _COMMON_KEY)
