"""SQL conditions for one search criterion, by parameter type (R4 search semantics, identical on both databases)."""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable
from functools import lru_cache

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    and_,
    bindparam,
    exists,
    false,
    literal,
    not_,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement as Col

from joinedup.fhir.errors import InvalidRequest
from joinedup.fhir.numbers import number_range
from joinedup.fhir.search_parameters import SearchParameter
from joinedup.fhir.search_request import ParamCriterion, SearchValue
from joinedup.fhir.text import fold

from .date_conditions import (
    Bounds,
    bounded_scan,
    class_scans,
    date_bounds,
    date_match,
    exact_test,
    exact_values,
    scan_values,
)
from .date_spans import SPAN_LIMITS, UNBOUNDED
from .schema import INDEX_TABLES

_TOP = "\U0010ffff"  # sorts after every character byte-wise: the upper bound of a prefix range


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def prefix_range(column: Col[str], prefix: str) -> ColumnElement[bool]:
    return and_(column >= prefix, column < prefix + _TOP)


def _pks_in(
    kind: str,
    resource_type: str,
    parameter: SearchParameter,
    match: Callable[[FromClause], ColumnElement[bool]] | None,
) -> Select[tuple[int]]:
    """The pks of resources of the type with an index value of the parameter (matching, when given).

    Criteria are written as `r.pk IN (this)` rather than a correlated EXISTS, so that both databases drive the
    search from the index's (resource_type, param, value) order instead of visiting every resource of the type.
    """
    table = INDEX_TABLES[kind]
    conditions = [table.c.resource_type == resource_type, table.c.param == parameter.name]
    if match is not None:
        conditions.append(match(table))
    return select(table.c.resource_pk).where(*conditions)


def _has_value(
    resource_row: FromClause,
    kind: str,
    resource_type: str,
    parameter: SearchParameter,
    match: Callable[[FromClause], ColumnElement[bool]],
    probe: bool,
) -> ColumnElement[bool]:
    """The resource has a matching index value, as `pk IN (matching pks)` (the search starts from this
    criterion's matches) or, for a probe, as an EXISTS on the resource's own index rows (this criterion only
    checks candidates another criterion found: listing every match of a broad code or status cost more than
    the whole rest of the search)."""
    if not probe:
        return resource_row.c.pk.in_(_pks_in(kind, resource_type, parameter, match))
    table = INDEX_TABLES[kind].alias()
    return exists(
        select(literal(1)).where(
            table.c.resource_pk == resource_row.c.pk,
            table.c.param == parameter.name,
            match(table),
        )
    )


def _string(table: FromClause, value: SearchValue, modifier: str | None) -> ColumnElement[bool]:
    if modifier == "exact":
        return table.c.exact == value.text
    folded = fold(value.text)
    if modifier == "contains":
        return table.c.value.like(f"%{_like_escape(folded)}%", escape="\\")
    return prefix_range(table.c.value, folded)


def _token(table: FromClause, value: SearchValue, modifier: str | None) -> ColumnElement[bool]:
    if modifier == "text":
        return table.c.text.like(f"%{_like_escape(fold(value.text))}%", escape="\\")
    if "|" not in value.text:
        return table.c.code == value.text
    system, _, code = value.text.partition("|")
    if code == "":
        return table.c.system == system
    return and_(table.c.system == system, table.c.code == code)


def _reference(
    table: FromClause, value: SearchValue, modifier: str | None, parameter: SearchParameter
) -> ColumnElement[bool]:
    text = value.text
    if modifier == "identifier":
        system, bar, ident = text.partition("|")
        if not bar:
            return table.c.ident_value == text
        return (
            and_(table.c.ident_system == system, table.c.ident_value == ident)
            if ident
            else (table.c.ident_system == system)
        )
    if text.startswith(("http://", "https://", "urn:")):
        return table.c.url == text.split("|")[0] if "/_history/" not in text else table.c.url == text
    parts = text.split("/")
    if len(parts) >= 2 and parts[0][:1].isupper():
        return and_(table.c.target_type == parts[0], table.c.target_id == parts[1])
    if modifier is not None:  # :Patient
        return and_(table.c.target_type == modifier, table.c.target_id == text)
    if parameter.targets and len(parameter.targets) == 1:
        return and_(table.c.target_type == parameter.targets[0], table.c.target_id == text)
    return table.c.target_id == text


def _parse_number(text: str, name: str) -> tuple[float, float, float]:
    found = number_range(text)
    if found is None:
        raise InvalidRequest(f"'{text}' is not a valid number in '{name}'", location=name)
    return found


def _ordered(column: Col[float], value: float, low: float, high: float, prefix: str) -> ColumnElement[bool]:
    match prefix:
        case "eq":
            return and_(column >= low, column < high)
        case "ne":
            return or_(column < low, column >= high)
        case "gt" | "sa":
            return column > value
        case "lt" | "eb":
            return column < value
        case "ge":
            return column >= value
        case "le":
            return column <= value
        case _:  # ap: within 10% (R4's recommendation)
            margin = abs(value) * 0.1
            return and_(column >= value - margin, column <= value + margin)


def _quantity(table: FromClause, value: SearchValue, name: str) -> ColumnElement[bool]:
    number_text, _, rest = value.text.partition("|")
    number, low, high = _parse_number(number_text, name)
    condition = _ordered(table.c.value, number, low, high, value.prefix)
    if rest:
        system, bar, code = rest.partition("|")
        if not bar:
            code, system = system, ""
        if system:
            condition = and_(condition, table.c.system == system)
        if code:
            condition = and_(
                condition, or_(table.c.code == code, table.c.unit == code) if not system else table.c.code == code
            )
    return condition


def _uri_below(column: Col[str], text: str) -> ColumnElement[bool]:
    """The uri itself or any uri under it by whole path segments (R4 3.1.1.5.11): `http://a.org/fhir` takes in
    `http://a.org/fhir/x` but not `http://a.org/fhirish`, which a plain string prefix wrongly matched."""
    stem = text.rstrip("/")
    return or_(column == stem, column == stem + "/", prefix_range(column, stem + "/"))


def _uri_ancestors(text: str) -> list[str]:
    """Every uri that `text` lies below by whole path segments, itself included (for :above)."""
    scheme, sep, rest = text.partition("://")
    pieces = (rest if sep else text).rstrip("/").split("/")
    lead = f"{scheme}://" if sep else ""
    found = [lead + "/".join(pieces[:n]) for n in range(1, len(pieces) + 1)]
    return found + [f"{f}/" for f in found] + ([text] if text not in found else [])


def _value_match(
    parameter: SearchParameter, modifier: str | None, value: SearchValue, key: str
) -> Callable[[FromClause], ColumnElement[bool]]:
    kind = "token" if parameter.type == "special" else parameter.type
    if kind == "string":
        return lambda t: _string(t, value, modifier)
    if kind == "token":
        return lambda t: _token(t, value, modifier)
    if kind == "reference":
        return lambda t: _reference(t, value, modifier, parameter)
    if kind == "date":
        return lambda t: date_match(t, value, key)
    if kind == "number":
        number, low, high = _parse_number(value.text, key)
        return lambda t: _ordered(t.c.value, number, low, high, value.prefix)
    if kind == "quantity":
        return lambda t: _quantity(t, value, key)
    if kind == "uri":
        if modifier == "below":
            return lambda t: _uri_below(t.c.value, value.text)
        if modifier == "above":
            return lambda t: t.c.value.in_(_uri_ancestors(value.text))
        return lambda t: t.c.value == value.text
    raise InvalidRequest(f"Search parameter '{parameter.name}' of type {parameter.type} is not supported", location=key)


def index_kind(parameter: SearchParameter) -> str:
    return "token" if parameter.type == "special" else parameter.type


Binds = dict[str, object]  # values for the bind parameters of conditions kept for a search's shape


def param_condition(
    criterion: ParamCriterion,
    resource_row: FromClause,
    resource_type: str,
    probe: bool = False,
    binds: Binds | None = None,
) -> ColumnElement[bool]:
    """True for a resource row matching any of the criterion's values (see _has_value for `probe`, dates_condition
    for `binds`)."""
    parameter, modifier = criterion.parameter, criterion.modifier
    key = parameter.name + (f":{modifier}" if modifier else "")
    if parameter.name == "_id" and modifier is None:
        return resource_row.c.id.in_([v.text for v in criterion.values])
    kind = index_kind(parameter)
    if kind not in INDEX_TABLES:
        raise InvalidRequest(f"Search parameter '{parameter.name}' is not supported", location=key)
    if modifier == "missing":
        present = resource_row.c.pk.in_(_pks_in(kind, resource_type, parameter, None))
        wants_missing = [v.text == "true" for v in criterion.values]
        return or_(*(not_(present) if missing else present for missing in wants_missing))
    if modifier == "not":  # R4: matches resources with no value equal to the token, including none at all
        matches = [_value_match(parameter, None, v, key) for v in criterion.values]
        found = _pks_in(kind, resource_type, parameter, lambda t: or_(*(m(t) for m in matches)))
        return resource_row.c.pk.not_in(found)
    if kind == "date" and modifier is None:
        return dates_condition([criterion], resource_row, resource_type, probe, binds)
    if binds is not None and modifier is None and kind in _KEPT_KINDS:
        kept = _kept_values_condition(criterion, resource_row, resource_type, probe, binds)
        if kept is not None:
            return kept
    matches = [_value_match(parameter, modifier, v, key) for v in criterion.values]
    if not matches:
        return false()
    return _has_value(resource_row, kind, resource_type, parameter, lambda t: or_(*(m(t) for m in matches)), probe)


def dates_condition(
    criteria: list[ParamCriterion],
    resource_row: FromClause,
    resource_type: str,
    probe: bool = False,
    binds: Binds | None = None,
) -> ColumnElement[bool]:
    """Criteria on one date parameter met by a single index row: one criterion, or several (AND) on a parameter
    that holds at most one value per resource. The exact tests go with their necessary bounds, which the
    covering (resource_type, param, span, low) index answers with a few narrow scans.

    Given `binds` (the search's own statement, decision 0009), the scans come from a condition kept for the
    search's shape (type, parameter, prefixes) whose numbers are bind parameters, and this search's numbers go
    into `binds`: building and keying the seventeen scans afresh was most of a date search's time."""
    parameter = criteria[0].parameter
    if any(not criterion.values for criterion in criteria):
        return false()
    bounds = Bounds()
    for criterion in criteria:
        either = date_bounds(criterion.values[0], parameter.name)
        for value in criterion.values[1:]:
            either = either.either(date_bounds(value, parameter.name))
        bounds = bounds.both(either)

    def exact(table: FromClause) -> ColumnElement[bool]:
        return and_(*(or_(*(date_match(table, v, parameter.name) for v in c.values)) for c in criteria))

    if binds is not None and not probe:
        kept = _kept_for_shape(criteria, resource_row, resource_type, bounds, binds)
        if kept is not None:
            return kept
    table = INDEX_TABLES["date"]
    scans = None if probe else class_scans(table, bounds)
    if scans is None:
        return _has_value(
            resource_row, "date", resource_type, parameter, lambda t: and_(exact(t), bounded_scan(t, bounds)), probe
        )
    # One SELECT per span class joined by UNION ALL, not one OR: PostgreSQL planned the OR of seventeen ranges as a
    # filter over every row of the parameter (seconds); each branch alone is a range scan of the covering index.
    # The exact tests apply once, to the rows the scans found, rather than inside every branch: the statement
    # stays a seventeenth of the size, and building and keying it had become most of a date search's time.
    branches = [
        select(table.c.resource_pk, table.c.low, table.c.high).where(
            table.c.resource_type == resource_type, table.c.param == parameter.name, scan
        )
        for scan in scans
    ]
    found = union_all(*branches).subquery("date_rows")
    return resource_row.c.pk.in_(select(found.c.resource_pk).where(exact(found)))


def _kept_for_shape(
    criteria: list[ParamCriterion], resource_row: FromClause, resource_type: str, bounds: Bounds, binds: Binds
) -> ColumnElement[bool] | None:
    """The kept lookup for these criteria's shape with their numbers added to `binds`; None when the bounds narrow
    nothing, or when the same shape already serves another criterion of this search (its names are taken)."""
    values = scan_values(bounds)
    if values is None:
        return None
    name = criteria[0].parameter.name
    prefixes = tuple(tuple(value.prefix for value in criterion.values) for criterion in criteria)
    tag, condition = _kept_date_lookup(resource_row, resource_type, name, prefixes)
    if f"{tag}low_max" in binds:
        return None
    numbers = [n for criterion in criteria for value in criterion.values for n in exact_values(value, name)]
    binds.update({tag + key: value for key, value in values.items()})
    binds.update({f"{tag}x{position}": number for position, number in enumerate(numbers)})
    return condition


_kept_serials = itertools.count()
KEPT: set[int] = set()  # ids of live kept conditions (reads.py keeps whole statements made only of these)


def _kept(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    KEPT.add(id(condition))
    weakref.finalize(condition, KEPT.discard, id(condition))  # gone with the condition, before its id is reused
    return condition


@lru_cache(maxsize=512)
def _kept_date_lookup(
    resource_row: FromClause, resource_type: str, name: str, prefixes: tuple[tuple[str, ...], ...]
) -> tuple[str, ColumnElement[bool]]:
    """The date lookup of dates_condition for one shape, its numbers as bind parameters named `<tag><key>` (a tag
    of its own, so that two kept lookups in one statement never share a name). An open end is bound as a number
    beyond every stored one (date_conditions.scan_values), so the scans have one shape whatever the bounds."""
    tag = f"date{next(_kept_serials)}_"
    table = INDEX_TABLES["date"]
    lo, hi, span = table.c.low, table.c.high, table.c.span

    def bound(key: str) -> ColumnElement[int]:
        return bindparam(tag + key, type_=lo.type)

    branches = [
        select(table.c.resource_pk, lo, hi).where(
            table.c.resource_type == resource_type,
            table.c.param == name,
            span == span_class,
            lo >= bound(f"floor{span_class}"),
            lo <= bound("low_max"),
            hi >= bound("high_min"),
            hi <= bound("high_max"),
        )
        for span_class in [*range(len(SPAN_LIMITS)), UNBOUNDED]
    ]
    found = union_all(*branches).subquery("date_rows")
    positions = itertools.count()

    def take() -> ColumnElement[int]:
        return bound(f"x{next(positions)}")

    exact = and_(*(or_(*(exact_test(found, prefix, take) for prefix in values)) for values in prefixes))
    return tag, _kept(resource_row.c.pk.in_(select(found.c.resource_pk).where(exact)))


# Token and reference criteria without a modifier (a patient's Conditions by code, Tasks by owner and status) kept
# per shape like dates: each value's shape names the index columns it compares (code; system; system and code; the
# target's type and id; its id; its url), in the order its values are bound.
_KEPT_COLUMNS = {"code": "code", "system": "system", "type": "target_type", "id": "target_id", "url": "url"}
_KEPT_KINDS = frozenset({"token", "reference"})


def _token_shape(text: str) -> tuple[tuple[str, ...], list[str]]:
    """What `_token` compares for a value without a modifier, as (columns, values)."""
    if "|" not in text:
        return ("code",), [text]
    system, _, code = text.partition("|")
    return (("system",), [system]) if code == "" else (("system", "code"), [system, code])


def _reference_shape(text: str, parameter: SearchParameter) -> tuple[tuple[str, ...], list[str]]:
    """What `_reference` compares for a value without a modifier, as (columns, values)."""
    if text.startswith(("http://", "https://", "urn:")):
        return ("url",), [text.split("|")[0] if "/_history/" not in text else text]
    parts = text.split("/")
    if len(parts) >= 2 and parts[0][:1].isupper():
        return ("type", "id"), [parts[0], parts[1]]
    if parameter.targets and len(parameter.targets) == 1:
        return ("type", "id"), [parameter.targets[0], text]
    return ("id",), [text]


def _kept_values_condition(
    criterion: ParamCriterion, resource_row: FromClause, resource_type: str, probe: bool, binds: Binds
) -> ColumnElement[bool] | None:
    """The kept condition for this token or reference criterion's shape, its values added to `binds`; None when
    the same shape already serves another criterion of this search."""
    parameter = criterion.parameter
    shapes: list[tuple[str, ...]] = []
    values: list[str] = []
    for value in criterion.values:
        if parameter.type == "reference":
            shape, found = _reference_shape(value.text, parameter)
        else:
            shape, found = _token_shape(value.text)
        shapes.append(shape)
        values += found
    if not shapes:
        return None
    tag, condition = _kept_values_lookup(resource_row, resource_type, parameter, probe, tuple(shapes))
    if f"{tag}v0" in binds:
        return None
    binds.update({f"{tag}v{position}": value for position, value in enumerate(values)})
    return condition


@lru_cache(maxsize=1024)
def _kept_values_lookup(
    resource_row: FromClause,
    resource_type: str,
    parameter: SearchParameter,
    probe: bool,
    shapes: tuple[tuple[str, ...], ...],
) -> tuple[str, ColumnElement[bool]]:
    tag = f"{parameter.type}{next(_kept_serials)}_"
    kind = index_kind(parameter)

    def match(table: FromClause) -> ColumnElement[bool]:
        positions = itertools.count()

        def take(column: str) -> ColumnElement[bool]:
            target = table.c[_KEPT_COLUMNS[column]]
            return target == bindparam(f"{tag}v{next(positions)}", type_=target.type)

        return or_(*(and_(*(take(column) for column in shape)) for shape in shapes))

    return tag, _kept(_has_value(resource_row, kind, resource_type, parameter, match, probe))
