"""Date search conditions (R4 prefixes over [low, high] ranges), with bounds the index can use.

Each prefix is an exact test on the row's range. Beside it go necessary bounds (the range must start no earlier
than A and no later than B, and end no earlier than C and no later than D), which, with the row's span class,
turn into one narrow scan of the (resource_type, param, span, low) index per class (see date_spans.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import BigInteger, ColumnElement, FromClause, and_, literal, or_, true

from joinedup.fhir import dates
from joinedup.fhir.errors import InvalidRequest
from joinedup.fhir.search_request import SearchValue

from .date_spans import SPAN_LIMITS, UNBOUNDED


@dataclass(frozen=True)
class Bounds:
    """Necessary bounds on a matching row: low in [low_min, low_max], high in [high_min, high_max]; None = open."""

    low_min: int | None = None
    low_max: int | None = None
    high_min: int | None = None
    high_max: int | None = None

    def either(self, other: Bounds) -> Bounds:
        """Bounds that hold for a row meeting this or the other (OR of values): the wider of each."""
        return Bounds(
            _loosest(self.low_min, other.low_min, min),
            _loosest(self.low_max, other.low_max, max),
            _loosest(self.high_min, other.high_min, min),
            _loosest(self.high_max, other.high_max, max),
        )

    def both(self, other: Bounds) -> Bounds:
        """Bounds that hold for a row meeting this and the other (AND on one row): the narrower of each."""
        return Bounds(
            _tightest(self.low_min, other.low_min, max),
            _tightest(self.low_max, other.low_max, min),
            _tightest(self.high_min, other.high_min, max),
            _tightest(self.high_max, other.high_max, min),
        )


def _loosest(a: int | None, b: int | None, pick: Callable[[int, int], int]) -> int | None:
    return None if a is None or b is None else pick(a, b)


def _tightest(a: int | None, b: int | None, pick: Callable[[int, int], int]) -> int | None:
    if a is None:
        return b
    return a if b is None else pick(a, b)


def search_range(value: SearchValue, name: str) -> tuple[int, int]:
    try:
        return dates.parse_range(value.text)
    except ValueError:
        raise InvalidRequest(f"'{value.text}' is not a valid date in '{name}'", location=name) from None


def _approximate_margin(low: int) -> int:
    # ap: within 10% of the gap between the value and now, at least a day (R4 leaves this to the server)
    now = dates.micros(datetime.now(UTC))
    return max(abs(now - low) // 10, 86_400_000_000)


def exact_values(value: SearchValue, name: str) -> tuple[int, ...]:
    """The numbers that the exact test of one prefixed value compares with, in the order `exact_test` takes them."""
    low, high = search_range(value, name)
    match value.prefix:
        case "eq" | "ne":
            return (low, high)
        case "gt" | "sa":
            return (high,)
        case "lt" | "eb":
            return (low,)
        case "ge":
            return (high, low, high)
        case "le":
            return (low, low, high)
        case _:
            margin = _approximate_margin(low)
            return (low - margin, high + margin)


def exact_test(table: FromClause, prefix: str, take: Callable[[], ColumnElement[int]]) -> ColumnElement[bool]:
    """The exact R4 test of one prefixed value against the row's range; `take` gives its numbers in turn (bound
    values, or bind parameters of a statement kept for the search's shape)."""
    lo, hi = table.c.low, table.c.high
    match prefix:
        case "eq":
            return and_(lo >= take(), hi <= take())
        case "ne":
            return or_(lo < take(), hi > take())
        case "gt":
            return hi > take()
        case "lt":
            return lo < take()
        # R4 3.1.1.4: ge is "the range above the search value intersects the target, or the search value fully
        # contains it" (gt or eq), le likewise (lt or eq). `hi >= low` / `lo <= high` also matched a Period that
        # merely overlapped the search range from the other side (ended on the day searched with ge).
        case "ge":
            return or_(hi > take(), and_(lo >= take(), hi <= take()))
        case "le":
            return or_(lo < take(), and_(lo >= take(), hi <= take()))
        case "sa":
            return lo > take()
        case "eb":
            return hi < take()
        case _:  # ap
            return and_(hi >= take(), lo <= take())


def date_match(table: FromClause, value: SearchValue, name: str) -> ColumnElement[bool]:
    """The exact R4 test of one prefixed value against the row's range, with its numbers as bound values."""
    numbers = iter(exact_values(value, name))
    return exact_test(table, value.prefix, lambda: literal(next(numbers), BigInteger()))


def date_bounds(value: SearchValue, name: str) -> Bounds:
    """What every row matching the value must satisfy (a superset of date_match, in index-friendly form)."""
    low, high = search_range(value, name)
    match value.prefix:
        case "eq":
            return Bounds(low_min=low, low_max=high, high_min=low, high_max=high)
        case "gt" | "ge":
            return Bounds(high_min=high if value.prefix == "gt" else low)
        case "lt" | "le":
            return Bounds(low_max=low if value.prefix == "lt" else high)
        case "sa":
            return Bounds(low_min=high)
        case "eb":
            return Bounds(high_max=low)
        case "ap":
            margin = _approximate_margin(low)
            return Bounds(low_max=high + margin, high_min=low - margin)
        case _:  # ne
            return Bounds()


def class_scans(table: FromClause, bounds: Bounds) -> list[ColumnElement[bool]] | None:
    """The bounds as one narrow range of `low` per span class (a range of width under 2**b days that ends at or
    after C starts after C - 2**b days), each with the bounds on `high`: every one a range scan of the covering
    index. None when the bounds narrow nothing."""
    lo, hi, span = table.c.low, table.c.high, table.c.span
    ends = [hi >= bounds.high_min] if bounds.high_min is not None else []
    ends += [hi <= bounds.high_max] if bounds.high_max is not None else []
    if bounds.low_min is None and bounds.low_max is None and bounds.high_min is None:
        return None
    per_class: list[ColumnElement[bool]] = []
    for span_class, limit in [*enumerate(SPAN_LIMITS), (UNBOUNDED, None)]:
        start_floor = bounds.low_min
        if bounds.high_min is not None and limit is not None:
            start_floor = bounds.high_min - limit if start_floor is None else max(start_floor, bounds.high_min - limit)
        starts = [lo >= start_floor] if start_floor is not None else []
        starts += [lo <= bounds.low_max] if bounds.low_max is not None else []
        per_class.append(and_(span == span_class, *starts, *ends))
    return per_class


# An open end of the bounds as a number beyond every stored one (stored ranges lie within MIN_MICROS..MAX_MICROS), so
# that the scans of a statement kept for the search's shape need no shape of their own per open end.
OPEN_BELOW = dates.MIN_MICROS - 1
OPEN_ABOVE = dates.MAX_MICROS + 1


def scan_values(bounds: Bounds) -> dict[str, int] | None:
    """The values of `class_scans` for the fixed-shape scans: one start floor per class, the start's ceiling and
    the end's floor and ceiling, each open end as a number beyond every stored one. None when the bounds narrow
    nothing (as class_scans)."""
    if bounds.low_min is None and bounds.low_max is None and bounds.high_min is None:
        return None
    values = {
        "low_max": OPEN_ABOVE if bounds.low_max is None else bounds.low_max,
        "high_min": OPEN_BELOW if bounds.high_min is None else bounds.high_min,
        "high_max": OPEN_ABOVE if bounds.high_max is None else bounds.high_max,
    }
    for span_class, limit in [*enumerate(SPAN_LIMITS), (UNBOUNDED, None)]:
        start_floor = bounds.low_min
        if bounds.high_min is not None and limit is not None:
            start_floor = bounds.high_min - limit if start_floor is None else max(start_floor, bounds.high_min - limit)
        values[f"floor{span_class}"] = OPEN_BELOW if start_floor is None else start_floor
    return values


def bounded_scan(table: FromClause, bounds: Bounds) -> ColumnElement[bool]:
    """The same bounds as one condition (for a probe of one resource's rows, where no scan needs narrowing)."""
    scans = class_scans(table, bounds)
    if scans is None:
        hi = table.c.high
        return and_(true(), *([hi <= bounds.high_max] if bounds.high_max is not None else []))
    return or_(*scans)
