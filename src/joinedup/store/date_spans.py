"""Span classes of indexed date ranges, so that a date search can bound both ends of the range it scans.

A date search such as `date=ge2020-07-22&date=le2020-07-22` asks for ranges [low, high] that end on or after
one instant and start on or before another. A B-tree on `low` can bound only the start; the end alone tells
nothing about where the start lies, so the database walked every range that started earlier (years of
Encounters) to find the few hundred of one day. Each index row therefore records its span class `span`: the
smallest b with high - low < one day * 2**b. Within class b a range that ends at or after C starts after
C - 2**b days, so the search becomes a few narrow scans of (resource_type, param, span, low), one per class.
"""

from __future__ import annotations

DAY_MICROS = 86_400_000_000
BOUNDED_CLASSES = 17  # class 16 holds spans under 2**16 days (about 179 years)
UNBOUNDED = BOUNDED_CLASSES  # open-ended periods (a start and no end) and anything wider
SPAN_LIMITS: tuple[int, ...] = tuple(DAY_MICROS * 2**b for b in range(BOUNDED_CLASSES))


def span_class(low: int, high: int) -> int:
    """The span class of [low, high]: the first b whose limit the width stays under, else UNBOUNDED."""
    width = high - low
    for b, limit in enumerate(SPAN_LIMITS):
        if width < limit:
            return b
    return UNBOUNDED
