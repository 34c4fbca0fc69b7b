"""Date ranges given as several criteria (ge/le/gt/lt/eq/sa/eb together), checked against a plain oracle.

A single-valued date parameter (Encounter.date is Encounter.period) is searched with one bounded index lookup of
the row meeting every criterion, with span classes bounding the scan (store/date_spans.py). A multi-valued one
(Observation.date takes in Timing.event) keeps "some value meets each criterion". Both must give exactly the R4
answer for ranges of every width, open-ended ones included.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from joinedup.fhir import dates
from joinedup.fhir.cardinality import single_valued
from joinedup.fhir.search_parameters import parameters_for
from joinedup.store.date_spans import UNBOUNDED, span_class
from joinedup.store.fhir_store import FhirStore

from .test_search_support import BACKENDS, ids, seeded_store

PERIODS: dict[str, dict[str, str]] = {
    "hour": {"start": "2021-06-15T10:00:00Z", "end": "2021-06-15T11:00:00Z"},
    "day": {"start": "2021-06-15", "end": "2021-06-15"},
    "overnight": {"start": "2021-06-14T22:00:00Z", "end": "2021-06-15T02:00:00Z"},
    "week": {"start": "2021-06-10", "end": "2021-06-17"},
    "quarter": {"start": "2021-04-01", "end": "2021-06-30"},
    "years": {"start": "2018-01-01", "end": "2023-12-31"},
    "decades": {"start": "1990-05-01", "end": "2030-01-01"},
    "open-end": {"start": "2021-06-01"},
    "open-start": {"end": "2021-06-16"},
    "earlier": {"start": "2019-02-01", "end": "2019-02-03"},
    "later": {"start": "2024-09-09", "end": "2024-09-10"},
}
EVENTS: dict[str, list[str]] = {
    "apart": ["2019-03-01", "2023-03-01"],
    "same-week": ["2021-06-12", "2021-06-16"],
    "single": ["2021-06-15"],
}
SEARCH_VALUES = ["2021-06-15", "2021-06", "2021", "2019-03-01", "2023-03-01", "2021-06-15T10:30:00Z", "2024"]
PREFIXES = ["eq", "ge", "le", "gt", "lt", "sa", "eb"]


def _range(period: dict[str, str]) -> tuple[int, int]:
    low = dates.parse_range(period["start"])[0] if "start" in period else dates.MIN_MICROS
    high = dates.parse_range(period["end"])[1] if "end" in period else dates.MAX_MICROS
    return low, high


def _meets(prefix: str, value: str, row: tuple[int, int]) -> bool:
    """R4 3.1.1.4 for a search value against one indexed range, written independently of the SQL."""
    low, high = dates.parse_range(value)
    lo, hi = row
    within = lo >= low and hi <= high
    return {
        "eq": within,
        "ge": hi > high or within,
        "le": lo < low or within,
        "gt": hi > high,
        "lt": lo < low,
        "sa": lo > high,
        "eb": hi < low,
    }[prefix]


def _resources() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [{"resourceType": "Patient", "id": "p1"}]
    for name, period in PERIODS.items():
        found.append(
            {
                "resourceType": "Encounter",
                "id": name,
                "status": "finished",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                "subject": {"reference": "Patient/p1"},
                "period": period,
            }
        )
    for name, events in EVENTS.items():
        found.append(
            {
                "resourceType": "Observation",
                "id": name,
                "status": "final",
                "code": {"text": "blood pressure"},
                "subject": {"reference": "Patient/p1"},
                "effectiveTiming": {"event": events},
            }
        )
    return found


@pytest.fixture(scope="module", params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirStore]:
    with seeded_store(request, tmp_path_factory, _resources()) as seeded:
        yield seeded


def test_period_parameter_is_single_valued_and_timing_is_not() -> None:
    assert single_valued(parameters_for("Encounter")["date"])
    assert single_valued(parameters_for("Condition")["onset-date"])  # onset[x]: one of its variants at most
    assert not single_valued(parameters_for("Observation")["date"])  # effectiveTiming.event repeats
    assert not single_valued(parameters_for("Encounter")["location-period"])  # Encounter.location repeats


def test_span_classes_grow_with_width_and_open_ranges_are_unbounded() -> None:
    classes = [span_class(*_range(PERIODS[name])) for name in ("hour", "day", "week", "quarter", "years")]
    assert classes == sorted(classes) and classes[0] == 0 and classes[-1] < UNBOUNDED
    assert span_class(*_range(PERIODS["open-end"])) == UNBOUNDED


PAIRS = list(itertools.product(PREFIXES, SEARCH_VALUES, ["ge", "le", "lt", "gt"], ["2021-06-15", "2021", "2024"]))


@pytest.mark.parametrize(("first", "first_value", "second", "second_value"), PAIRS[::3])
def test_two_criteria_on_a_period_match_the_oracle(
    store: FhirStore, first: str, first_value: str, second: str, second_value: str
) -> None:
    query = f"date={first}{first_value}&date={second}{second_value}"
    expected = {
        name
        for name, period in PERIODS.items()
        if _meets(first, first_value, _range(period)) and _meets(second, second_value, _range(period))
    }
    assert ids(store, "Encounter", query) == expected, query


@pytest.mark.parametrize(("prefix", "value"), list(itertools.product(PREFIXES, SEARCH_VALUES)))
def test_one_criterion_with_or_values_matches_the_oracle(store: FhirStore, prefix: str, value: str) -> None:
    query = f"date={prefix}{value},eq2019-02"
    expected = {
        name
        for name, period in PERIODS.items()
        if _meets(prefix, value, _range(period)) or _meets("eq", "2019-02", _range(period))
    }
    assert ids(store, "Encounter", query) == expected, query


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Each criterion may be met by a different event: "apart" has one after 2022 and one before 2020.
        ("date=ge2022-01-01&date=le2019-12-31", {"apart"}),
        ("date=ge2021-06-15&date=le2021-06-15", {"same-week", "single", "apart"}),
        ("date=eq2021-06", {"same-week", "single"}),
        ("date=gt2021-06-13&date=lt2021-06-13", {"same-week", "apart"}),
        # Two criteria of one shape (the second cannot share the first's kept statement: decision 0009).
        ("date=ge2022-01-01&date=ge2019-01-01", {"apart"}),
        ("date=ge2019-01-01&date=ge2022-01-01", {"apart"}),
    ],
)
def test_repeating_dates_keep_some_value_per_criterion(store: FhirStore, query: str, expected: set[str]) -> None:
    assert ids(store, "Observation", query) == expected
