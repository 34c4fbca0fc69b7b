"""FHIR decimals carry their precision: '100' means [99.5, 100.5) in search (R4 3.1.1.5.8)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


def number_range(value: Any) -> tuple[float, float, float] | None:
    """(value, low, high) implied by the written precision, or None when the value is not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    exponent = number.as_tuple().exponent
    half = Decimal(5).scaleb(exponent - 1) if isinstance(exponent, int) else Decimal(0)
    return float(number), float(number - half), float(number + half)
