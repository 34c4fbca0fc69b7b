"""FHIR date, dateTime and instant values as UTC ranges in microseconds since the epoch.

Every FHIR date is a range at its precision: '2024' is the whole year, '2024-03-01T10:00' the whole minute.
Search compares ranges (R4 3.1.1.5.9), so the index stores each value's low and high bound as integers, which
compare the same on SQLite and PostgreSQL whatever the collation.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta, timezone

_PATTERN = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2})(?::(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d+))?)?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
MIN_MICROS = -62135596800000000  # 0001-01-01T00:00:00Z
MAX_MICROS = 253402300799999999  # 9999-12-31T23:59:59.999999Z


def micros(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def _zone(text: str | None) -> timezone:
    if text is None or text == "Z":
        # A dateTime without a zone is local time; this borough's records are UK local, and UTC is the
        # documented assumption (docs/decisions/0003) so that indexing never depends on the server's zone.
        return UTC
    sign = 1 if text[0] == "+" else -1
    hours, minutes = int(text[1:3]), int(text[4:6])
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _fast_range(text: str) -> tuple[int, int] | None:
    """The two shapes most records carry (a full date; a dateTime to the second with a zone), via the C parser."""
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and text.isascii():
        day = date.fromisoformat(text)
        start = (day.toordinal() - _EPOCH_ORDINAL) * 86_400_000_000
        return start, start + 86_400_000_000 - 1
    if len(text) in (20, 25) and text[10] == "T" and text[19] in "Z+-" and text.isascii():
        moment = datetime.fromisoformat(text)
        start = micros(moment)
        return start, start + 999_999
    return None


def parse_range(text: str) -> tuple[int, int]:
    """The (low, high) bounds in microseconds of a FHIR date/dateTime/instant; ValueError when malformed."""
    try:
        fast = _fast_range(text)
    except ValueError:
        fast = None
    if fast is not None:
        return fast
    match = _PATTERN.match(text.strip())
    if match is None:
        raise ValueError(f"'{text}' is not a FHIR date, dateTime or instant")
    parts = match.groupdict()
    year = int(parts["y"])
    if parts["m"] is None:
        low = datetime(year, 1, 1, tzinfo=UTC)
        return micros(low), micros(datetime(year, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
    month = int(parts["m"])
    if parts["d"] is None:
        last = calendar.monthrange(year, month)[1]
        return micros(datetime(year, month, 1, tzinfo=UTC)), micros(
            datetime(year, month, last, 23, 59, 59, 999999, tzinfo=UTC)
        )
    day = date(year, month, int(parts["d"]))
    if parts["H"] is None:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return micros(start), micros(start) + 86_400_000_000 - 1
    zone = _zone(parts["tz"])
    hour = int(parts["H"])
    if parts["M"] is None:
        start = datetime(day.year, day.month, day.day, hour, tzinfo=zone)
        return micros(start), micros(start) + 3_600_000_000 - 1
    minute = int(parts["M"])
    if parts["S"] is None:
        start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
        return micros(start), micros(start) + 60_000_000 - 1
    second = int(parts["S"])
    fraction = parts["f"]
    start = datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=zone)
    if fraction is None:
        return micros(start), micros(start) + 1_000_000 - 1
    digits = fraction[:6]
    value = micros(start) + int(digits.ljust(6, "0"))
    width = 10 ** (6 - len(digits))
    return value, value + width - 1


def now_instant() -> datetime:
    return datetime.now(UTC)


def format_instant(moment: datetime) -> str:
    """An instant as FHIR writes it: '2026-11-23T07:20:38.123456+00:00'."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
