"""Property: date and value-quantity prefix searches return exactly what R4's range rules say (a Python oracle).

One database per backend for the module; each example writes its own Observations under a fresh code, and every
search is restricted to that code, so examples never see each other's data.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from joinedup.store.fhir_store import FhirStore

from ..fixtures import patient
from .test_search_support import BACKENDS, ids, load, seeded_store

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FAR_PAST, FAR_FUTURE = -(10**20), 10**20
DATE_PREFIXES = ["eq", "ne", "gt", "lt", "ge", "le", "sa", "eb"]  # ap is the server's choice of margin
NUMBER_PREFIXES = ["eq", "ne", "gt", "lt", "ge", "le", "sa", "eb"]
ZONES = {"Z": UTC, "+01:00": timezone(timedelta(hours=1)), "-05:00": timezone(timedelta(hours=-5))}
_examples = itertools.count()


@pytest.fixture(scope="module", params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirStore]:
    with seeded_store(request, tmp_path_factory, [patient("p1")]) as seeded:
        yield seeded


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


@dataclass(frozen=True)
class FhirDate:
    """A date at some precision, with its range computed straight from the calendar (not by our parser)."""

    text: str
    low: int
    high: int  # inclusive, in microseconds


@st.composite
def fhir_dates(draw: st.DrawFn, with_minutes: bool = False) -> FhirDate:
    year = draw(st.integers(2020, 2021))
    month = draw(st.sampled_from([1, 2, 6, 12]))
    day = draw(st.sampled_from([1, 14, 15, 28]))
    precisions = ["year", "month", "day", "second"] + (["minute"] if with_minutes else [])
    precision = draw(st.sampled_from(precisions))
    if precision == "year":
        start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
        return FhirDate(f"{year}", _micros(start), _micros(end) - 1)
    if precision == "month":
        start = datetime(year, month, 1, tzinfo=UTC)
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        return FhirDate(f"{year}-{month:02d}", _micros(start), _micros(end) - 1)
    if precision == "day":
        start = datetime(year, month, day, tzinfo=UTC)
        return FhirDate(f"{year}-{month:02d}-{day:02d}", _micros(start), _micros(start + timedelta(days=1)) - 1)
    hour = draw(st.sampled_from([0, 1, 12, 23]))
    minute = draw(st.sampled_from([0, 30, 59]))
    zone = draw(st.sampled_from(sorted(ZONES)))
    start = datetime(year, month, day, hour, minute, tzinfo=ZONES[zone])
    if precision == "minute":
        text = f"{year}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}{zone}"
        return FhirDate(text, _micros(start), _micros(start + timedelta(minutes=1)) - 1)
    text = f"{year}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00{zone}"
    return FhirDate(text, _micros(start), _micros(start + timedelta(seconds=1)) - 1)


@st.composite
def effectives(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[int, int]]:
    """An Observation's effective[x]: a dateTime, or a Period with either end possibly open."""
    if draw(st.booleans()):
        value = draw(fhir_dates())
        return {"effectiveDateTime": value.text}, (value.low, value.high)
    start = draw(st.none() | fhir_dates())
    end = draw(st.none() | fhir_dates())
    if start is not None and end is not None and start.low > end.high:
        start, end = end, start
    if start is not None and end is not None and start.low > end.low:
        end = None  # keep the period well-formed: it may not end before it starts
    period = {k: v.text for k, v in (("start", start), ("end", end)) if v is not None}
    if not period:
        period = {"start": "2021-01-01"}
        start = FhirDate("2021-01-01", _micros(datetime(2021, 1, 1, tzinfo=UTC)), 0)
    low = start.low if start is not None else FAR_PAST
    high = end.high if end is not None else FAR_FUTURE
    return {"effectivePeriod": period}, (low, high)


def date_oracle(prefix: str, target: tuple[int, int], search: FhirDate) -> bool:
    """R4 3.1.1.4, with ranges: eq = the search range contains the target's; ge = gt or eq; le = lt or eq."""
    lo, hi = target
    contained = lo >= search.low and hi <= search.high
    above, below = hi > search.high, lo < search.low
    return {
        "eq": contained,
        "ne": not contained,
        "gt": above,
        "lt": below,
        "ge": above or contained,
        "le": below or contained,
        "sa": lo > search.high,
        "eb": hi < search.low,
    }[prefix]


decimals = st.builds(lambda n, places: Decimal(n).scaleb(-places), st.integers(0, 60), st.integers(0, 2))


def number_oracle(prefix: str, value: Decimal, search: Decimal) -> bool:
    """R4 3.1.1.5.8: eq/ne use the search value's implicit precision ([v - half, v + half)); others the exact value."""
    exponent = search.as_tuple().exponent
    assert isinstance(exponent, int)
    half = Decimal(5).scaleb(exponent - 1)
    within = search - half <= value < search + half
    return {
        "eq": within,
        "ne": not within,
        "gt": value > search,
        "sa": value > search,
        "lt": value < search,
        "eb": value < search,
        "ge": value >= search,
        "le": value <= search,
    }[prefix]


def _observation(oid: str, code: str, **content: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": "urn:test", "code": code}]},
        "subject": {"reference": "Patient/p1"},
        **content,
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(
    targets=st.lists(effectives(), min_size=1, max_size=6),
    searches=st.lists(st.tuples(st.sampled_from(DATE_PREFIXES), fhir_dates(with_minutes=True)), min_size=1, max_size=6),
)
def test_date_prefixes_match_the_oracle(
    store: FhirStore,
    targets: list[tuple[dict[str, Any], tuple[int, int]]],
    searches: list[tuple[str, FhirDate]],
) -> None:
    code = f"d{next(_examples)}"
    load(store, [_observation(f"{code}-{i}", code, **content) for i, (content, _) in enumerate(targets)])
    for prefix, search in searches:
        expected = {f"{code}-{i}" for i, (_, rng) in enumerate(targets) if date_oracle(prefix, rng, search)}
        found = ids(store, "Observation", [("code", f"urn:test|{code}"), ("date", f"{prefix}{search.text}")])
        assert found == expected, (prefix, search, targets)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(
    values=st.lists(decimals, min_size=1, max_size=6),
    searches=st.lists(st.tuples(st.sampled_from(NUMBER_PREFIXES), decimals), min_size=1, max_size=6),
)
def test_quantity_prefixes_match_the_oracle(
    store: FhirStore, values: list[Decimal], searches: list[tuple[str, Decimal]]
) -> None:
    code = f"q{next(_examples)}"
    load(
        store,
        [
            _observation(
                f"{code}-{i}",
                code,
                valueQuantity={"value": float(v), "system": "http://unitsofmeasure.org", "code": "mg"},
            )
            for i, v in enumerate(values)
        ],
    )
    for prefix, search in searches:
        expected = {f"{code}-{i}" for i, v in enumerate(values) if number_oracle(prefix, v, search)}
        query = [("code", f"urn:test|{code}"), ("value-quantity", f"{prefix}{search}|http://unitsofmeasure.org|mg")]
        assert ids(store, "Observation", query) == expected, (prefix, search, values)
