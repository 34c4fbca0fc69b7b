"""NHS number rules (NHS Data Dictionary): ten digits, the tenth a Modulo 11 check digit."""

from __future__ import annotations

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"

_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def check_digit(first_nine: str) -> int | None:
    """The Modulo 11 check digit for nine digits, or None when no valid number can end them (remainder 10)."""
    if len(first_nine) != 9 or not first_nine.isdigit():
        raise ValueError("an NHS number stem is nine digits")
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, _WEIGHTS, strict=True))
    digit = 11 - (total % 11)
    if digit == 11:
        return 0
    if digit == 10:
        return None
    return digit


def normalise(value: str) -> str:
    """Strip the spaces and hyphens people type (e.g. '943 476 5919')."""
    return value.replace(" ", "").replace("-", "")


def is_valid(value: str) -> bool:
    """True when the value is ten digits whose last one is the right Modulo 11 check digit."""
    digits = normalise(value)
    if len(digits) != 10 or not digits.isdigit():
        return False
    expected = check_digit(digits[:9])
    return expected is not None and expected == int(digits[9])


def complete(first_nine: str) -> str | None:
    """Append the check digit to nine digits; None when that stem cannot form a valid number."""
    digit = check_digit(first_nine)
    return None if digit is None else f"{first_nine}{digit}"


def format_3_3_4(value: str) -> str:
    """Display form used across the NHS: '943 476 5919'."""
    digits = normalise(value)
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
