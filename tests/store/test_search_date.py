"""Date search: every prefix against values of different precisions, Periods (open-ended too), time zones."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from joinedup.store.context import SYSTEM
from joinedup.store.fhir_store import FhirStore

from ..fixtures import condition, encounter, patient
from .test_search_support import BACKENDS, ids, seeded_store


def _obs(oid: str, **effective: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"text": "weight"},
        "subject": {"reference": "Patient/p1"},
        **effective,
    }


# UTC ranges: y = 2020; m = June 2021; d = 15 June 2021; t = 10:30:00 on the 15th; tz = 01:30:00 on the 16th;
# i = 10:30:00.123 on the 15th; p = 10th..20th; po = 14th..; ps = ..16th; pe = 1st..15th; pl = 15th 12:00..17th.
OBSERVATIONS = [
    _obs("y", effectiveDateTime="2020"),
    _obs("m", effectiveDateTime="2021-06"),
    _obs("d", effectiveDateTime="2021-06-15"),
    _obs("t", effectiveDateTime="2021-06-15T10:30:00Z"),
    _obs("tz", effectiveDateTime="2021-06-15T23:30:00-02:00"),
    _obs("i", effectiveInstant="2021-06-15T10:30:00.123Z"),
    _obs("p", effectivePeriod={"start": "2021-06-10", "end": "2021-06-20"}),
    _obs("po", effectivePeriod={"start": "2021-06-14"}),
    _obs("ps", effectivePeriod={"end": "2021-06-16"}),
    _obs("pe", effectivePeriod={"start": "2021-06-01", "end": "2021-06-15"}),
    _obs("pl", effectivePeriod={"start": "2021-06-15T12:00:00Z", "end": "2021-06-17"}),
    _obs("none"),
]
ALL = {o["id"] for o in OBSERVATIONS} - {"none"}


def _resources() -> list[dict[str, Any]]:
    return [
        patient("p1", birth="1950-04-02"),
        patient("p2", birth="1950-04"),
        patient("p3", birth="1962"),
        encounter("e-closed", "p1", "2024-01-10T09:00:00Z", "2024-01-12T17:00:00Z"),
        {
            **encounter("e-open", "p1", "2024-01-11T08:00:00+01:00", ""),
            "period": {"start": "2024-01-11T08:00:00+01:00"},
        },
        condition("c-onset", "p1", "38341003", onset="2019-11"),
        *OBSERVATIONS,
    ]


@pytest.fixture(scope="module", params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirStore]:
    with seeded_store(request, tmp_path_factory, _resources()) as seeded:
        yield seeded


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # eq: the search range contains the value's whole range
        ("2021-06-15", {"d", "t", "i"}),
        ("eq2021-06-15", {"d", "t", "i"}),
        ("2021-06-16", {"tz"}),
        ("2021-06", {"m", "d", "t", "tz", "i", "p", "pe", "pl"}),
        ("2020", {"y"}),
        ("2021-06-15T10:30", {"t", "i"}),  # a minute
        ("2021-06-15T10:30:00Z", {"t", "i"}),
        ("2021-06-15T10:30:00.123Z", {"i"}),
        # ne: not eq, values without a date never match
        ("ne2021-06-15", ALL - {"d", "t", "i"}),
        # gt: the value's range reaches past the search range; lt: starts before it
        ("gt2021-06-15", {"m", "tz", "p", "po", "ps", "pl"}),
        ("lt2021-06-15", {"y", "m", "p", "po", "ps", "pe"}),
        # ge = gt or eq; le = lt or eq (R4: "or the range of the search value fully contains the target")
        ("ge2021-06-15", {"m", "tz", "p", "po", "ps", "pl", "d", "t", "i"}),
        ("le2021-06-15", {"y", "m", "p", "po", "ps", "pe", "d", "t", "i"}),
        # sa: starts after the search range ends; eb: ends before it starts
        ("sa2021-06-15", {"tz"}),
        ("eb2021-06-15", {"y"}),
        ("sa2021-06-16", set()),
        ("eb2021-06-10", {"y"}),
        ("sa2019", {"y", "m", "d", "t", "tz", "i", "p", "po", "pe", "pl"}),
        # ap far from every bounded value: only the open-ended Periods reach there
        ("ap2060-01-01", {"po"}),
        ("ap1900-01-01", {"ps"}),
    ],
)
def test_prefixes_precisions_and_periods(store: FhirStore, value: str, expected: set[str]) -> None:
    assert ids(store, "Observation", [("date", value)]) == expected


def test_ap_is_approximately_equal(store: FhirStore) -> None:
    found = ids(store, "Observation", [("date", "ap2021-06-15")])
    assert {"d", "t", "i", "tz", "p", "po", "ps", "pe", "pl", "m"} <= found
    assert ids(store, "Patient", [("birthdate", "ap1950-04-02")]) == {"p1", "p2"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2021-06-16T01:30:00Z", {"tz"}),  # -02:00 read as the UTC instant it is
        ("2021-06-15T23:30:00-02:00", {"tz"}),
        ("2021-06-16T03:30:00+02:00", {"tz"}),
        ("2021-06-15T11:30:00+01:00", {"t", "i"}),
        ("2021-06-15T10:30:00+01:00", set()),
        ("2021-06-15T10:30:00", {"t", "i"}),  # a time without a zone is read as UTC (decision 0003)
        ("gt2021-06-16T01:29:59Z", {"m", "p", "po", "ps", "pl", "tz"}),
        ("lt2021-06-15T10:30:00Z", {"y", "m", "d", "p", "po", "ps", "pe"}),
    ],
)
def test_time_zones(store: FhirStore, value: str, expected: set[str]) -> None:
    assert ids(store, "Observation", [("date", value)]) == expected


@pytest.mark.parametrize(
    ("resource_type", "query", "expected"),
    [
        ("Patient", [("birthdate", "1950")], {"p1", "p2"}),
        ("Patient", [("birthdate", "1950-04-02")], {"p1"}),  # a month-precision birth date is not within a day
        ("Patient", [("birthdate", "ge1950-04-02")], {"p1", "p2", "p3"}),  # April reaches past the 2nd
        ("Patient", [("birthdate", "lt1950-04-02")], {"p2"}),
        ("Patient", [("birthdate", "ge1950"), ("birthdate", "lt1960")], {"p1", "p2"}),
        ("Patient", [("birthdate", "1950,1962")], {"p1", "p2", "p3"}),
        ("Encounter", [("date", "2024-01-11")], set()),  # neither stay lies within the day
        ("Encounter", [("date", "2024-01")], {"e-closed"}),
        ("Encounter", [("date", "gt2024-01-12")], {"e-open"}),
        ("Encounter", [("date", "ge2024-01-10"), ("date", "le2024-01-12")], {"e-closed", "e-open"}),
        ("Encounter", [("date", "ge2024-01-10"), ("date", "le2024-01-10")], set()),  # open stay began on the 11th
        ("Encounter", [("date", "lt2024-01-11T07:00:00Z")], {"e-closed"}),
        ("Encounter", [("date", "lt2024-01-11T07:00:01Z")], {"e-closed", "e-open"}),
        ("Encounter", [("date", "sa2024-01-11T06:59:59Z")], {"e-open"}),
        ("Condition", [("onset-date", "2019")], {"c-onset"}),
        ("Condition", [("onset-date", "2019-11-05")], set()),
        ("Condition", [("onset-date", "ne2019-11-05")], {"c-onset"}),
    ],
)
def test_other_date_parameters(
    store: FhirStore, resource_type: str, query: list[tuple[str, str]], expected: set[str]
) -> None:
    assert ids(store, resource_type, query) == expected


def test_missing_date(store: FhirStore) -> None:
    assert ids(store, "Observation", "date:missing=true") == {"none"}
    assert ids(store, "Observation", "date:missing=false") == ALL


def test_last_updated(store: FhirStore) -> None:
    """_lastUpdated is the version's instant: later writes are gt, earlier ones lt."""
    first = store.update(SYSTEM, "Patient", "lu-1", patient("lu-1")).written
    second = store.update(SYSTEM, "Patient", "lu-2", patient("lu-2")).written
    assert second.last_updated > first.last_updated
    stamp_1 = first.resource["meta"]["lastUpdated"] if first.resource else ""
    stamp_2 = second.resource["meta"]["lastUpdated"] if second.resource else ""
    assert ids(store, "Patient", [("_lastUpdated", stamp_1)]) == {"lu-1"}
    assert ids(store, "Patient", [("_lastUpdated", f"ge{stamp_1}"), ("_id", "lu-1,lu-2,p1")]) == {"lu-1", "lu-2"}
    assert ids(store, "Patient", [("_lastUpdated", f"gt{stamp_1}")]) == {"lu-2"}
    assert ids(store, "Patient", [("_lastUpdated", f"lt{stamp_2}"), ("_id", "lu-1,lu-2")]) == {"lu-1"}
    assert ids(store, "Patient", [("_lastUpdated", "lt2000-01-01")]) == set()
