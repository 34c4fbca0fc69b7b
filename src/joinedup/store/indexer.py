"""Extract the search index rows of one resource from the R4 search parameter table."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from joinedup.fhir import dates
from joinedup.fhir.numbers import number_range
from joinedup.fhir.paths import Step, compile_path, walk
from joinedup.fhir.references import parse_reference
from joinedup.fhir.search_parameters import SearchParameter, parameters_for
from joinedup.fhir.text import fold

from .date_spans import span_class
from .schema import INDEX_TABLES

IndexRows = dict[str, list[dict[str, Any]]]  # per index kind, one dict per row: column name to value
# Per index kind, one tuple per row in INDEX_COLUMNS order (the loader's form: its workers send these to the writer,
# and building dicts only to turn them into tuples was a fifth of a worker's time per resource).
IndexTuples = dict[str, list[tuple[Any, ...]]]
# Each index table's columns but the resource's key: resource_type, param, then the values _rows_for yields.
INDEX_COLUMNS = {
    kind: tuple(c.name for c in table.columns if c.name != "resource_pk") for kind, table in INDEX_TABLES.items()
}
_STRING_PARTS = (
    "family",
    "given",
    "prefix",
    "suffix",
    "text",
    "line",
    "city",
    "district",
    "state",
    "postalCode",
    "country",
)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):  # HumanName, Address: every part is searchable
        for part in _STRING_PARTS:
            item = value.get(part)
            if isinstance(item, str):
                yield item
            elif isinstance(item, list):
                yield from (i for i in item if isinstance(i, str))


def _tokens(value: Any) -> Iterator[tuple[str, str, str | None]]:
    """(system, code, text) for each coding, identifier, contact point or code."""
    if isinstance(value, bool):
        yield "", "true" if value else "false", None
    elif isinstance(value, str):
        yield "", value, None
    elif isinstance(value, dict):
        if "coding" in value or ("text" in value and "value" not in value and "code" not in value):
            text = value.get("text")
            for coding in value.get("coding") or []:
                if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                    # :text searches the CodeableConcept's text *and* the coding's display (R4 3.1.1.5.5), so the
                    # row carries both; a display alone used to hide the concept's text from :text.
                    parts = [p for p in (coding.get("display"), text) if isinstance(p, str) and p]
                    display = " | ".join(dict.fromkeys(parts))
                    yield coding.get("system") or "", coding["code"], fold(display) if display else None
            if isinstance(text, str) and not value.get("coding"):
                yield "", "", fold(text)
        elif isinstance(value.get("code"), str):  # Coding
            coding_display = value.get("display")
            yield value.get("system") or "", value["code"], fold(coding_display) if coding_display else None
        elif isinstance(value.get("value"), str):  # Identifier, ContactPoint
            type_text = (value.get("type") or {}).get("text") if isinstance(value.get("type"), dict) else None
            yield value.get("system") or "", value["value"], fold(type_text) if type_text else None


def _date_ranges(value: Any) -> Iterator[tuple[int, int]]:
    if isinstance(value, str):
        try:
            yield dates.parse_range(value)
        except ValueError:
            return
    elif isinstance(value, dict):
        if "start" in value or "end" in value:  # Period: an open end stretches to the edge of time
            low = dates.parse_range(value["start"])[0] if isinstance(value.get("start"), str) else dates.MIN_MICROS
            high = dates.parse_range(value["end"])[1] if isinstance(value.get("end"), str) else dates.MAX_MICROS
            yield low, high
        for event in value.get("event") or []:  # Timing
            yield from _date_ranges(event)


def _reference_rows(value: Any, parameter: SearchParameter) -> Iterator[tuple[Any, ...]]:
    """(target_type, target_id, url, ident_system, ident_value) of each reference."""
    if isinstance(value, str):  # canonical
        yield None, None, value, None, None
        return
    if not isinstance(value, dict):
        return
    found_identifier = value.get("identifier")
    identifier: dict[str, Any] = found_identifier if isinstance(found_identifier, dict) else {}
    reference = value.get("reference")
    parsed = parse_reference(reference) if isinstance(reference, str) else None
    if parsed is not None and parameter.targets and parsed.resource_type not in parameter.targets:
        return
    if parsed is None and not identifier and not isinstance(reference, str):
        return
    if isinstance(reference, str) and reference.startswith("#"):
        return
    local = parsed is not None and parsed.base is None
    yield (
        parsed.resource_type if parsed and local else None,
        parsed.resource_id if parsed and local else None,
        None if local else reference,
        identifier.get("system"),
        identifier.get("value"),
    )


def _rows_for(parameter: SearchParameter, value: Any) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """(index kind, the row's values in the order of its table's value columns) for each row `value` gives."""
    kind = parameter.type
    if kind == "string":
        for written in _strings(value):
            yield "string", (fold(written), written)  # value, exact
    elif kind == "token" or (kind == "special" and parameter.name == "deceased"):
        if parameter.name == "deceased" and isinstance(value, str):
            value = True  # a deceasedDateTime means the person has died
        for found_token in _tokens(value):
            yield "token", found_token  # system, code, text
    elif kind == "reference":
        for row in _reference_rows(value, parameter):
            yield "reference", row
    elif kind == "date":
        for low, high in _date_ranges(value):
            yield "date", (low, high, span_class(low, high))
    elif kind == "number":
        found = number_range(value)
        if found:
            yield "number", found  # value, low, high
    elif kind == "quantity" and isinstance(value, dict):
        found = number_range(value.get("value"))
        if found:
            system = value.get("system") or ""
            code = value.get("code") or value.get("currency") or ""
            yield "quantity", (*found, system, code, value.get("unit"))
    elif kind == "uri" and isinstance(value, str):
        yield "uri", (value,)


@cache
def _indexed_paths(resource_type: str) -> tuple[tuple[SearchParameter, tuple[tuple[str, tuple[Step, ...]], ...]], ...]:
    """Per type, once: each indexed parameter with its paths compiled and their first element named, so that a
    resource is only walked where it has that element (most parameters of a type are absent from any one resource).
    """
    found = []
    for parameter in parameters_for(resource_type).values():
        if parameter.type == "composite" or parameter.name == "_lastUpdated":
            continue  # _lastUpdated is the store's to set: the writers add it with the version
        compiled = tuple((steps[0].name, steps) for steps in map(compile_path, parameter.paths) if steps)
        if compiled:
            found.append((parameter, compiled))
    return tuple(found)


def index_tuples(resource: dict[str, Any]) -> IndexTuples:
    """Every index row of the resource, grouped by index table kind, as tuples in INDEX_COLUMNS order (without
    the resource's pk)."""
    resource_type = resource["resourceType"]
    rows: IndexTuples = {}
    for parameter, paths in _indexed_paths(resource_type):
        seen: set[tuple[str, tuple[Any, ...]]] = set()
        name = parameter.name
        for first, steps in paths:
            if first not in resource:
                continue
            for value in walk(resource, steps):
                for kind, values in _rows_for(parameter, value):
                    if (kind, values) in seen:
                        continue
                    seen.add((kind, values))
                    rows.setdefault(kind, []).append((resource_type, name, *values))
    return rows


def index_rows(resource: dict[str, Any]) -> IndexRows:
    """Every index row of the resource, grouped by index table kind, as column-to-value dicts (without the pk)."""
    return {
        kind: [dict(zip(INDEX_COLUMNS[kind], row, strict=True)) for row in kind_rows]
        for kind, kind_rows in index_tuples(resource).items()
    }


def last_updated_tuple(resource_type: str, moment: int) -> tuple[Any, ...]:
    """The _lastUpdated index row of a version written at `moment` (an instant: low and high are equal), in
    INDEX_COLUMNS["date"] order."""
    return resource_type, "_lastUpdated", moment, moment, 0  # span class 0: a single instant


def last_updated_row(resource_type: str, moment: int) -> dict[str, Any]:
    """The same row as column-to-value dict."""
    return dict(zip(INDEX_COLUMNS["date"], last_updated_tuple(resource_type, moment), strict=True))
