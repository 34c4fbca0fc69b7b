"""Number and quantity search: prefixes, implicit precision of the search value, system|code and ||unit forms."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from joinedup.store.fhir_store import FhirStore

from ..fixtures import observation, patient
from .test_search_support import BACKENDS, ids, seeded_store

UCUM = "http://unitsofmeasure.org"


def _risk(rid: str, probability: float | None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "id": rid,
        "status": "final",
        "subject": {"reference": "Patient/p1"},
    }
    if probability is not None:
        resource["prediction"] = [{"probabilityDecimal": probability}]
    return resource


def _resources() -> list[dict[str, Any]]:
    beats = observation("q-beats", "p1", "364075005", 100)
    beats["valueQuantity"] = {"value": 100, "unit": "beats/min"}  # a unit and nothing else
    other_system = observation("q-other", "p1", "1234", 0.5, unit="mg")
    other_system["valueQuantity"]["system"] = "http://example.org/units"
    no_value = observation("q-none", "p1", "1234", 1)
    del no_value["valueQuantity"]
    return [
        patient("p1"),
        observation("q-54", "p1", "1234", 5.4),
        observation("q-540", "p1", "1234", 5.40),
        observation("q-544", "p1", "1234", 5.44),
        observation("q-55", "p1", "1234", 5.5),
        observation("q-7mg", "p1", "1234", 7, unit="mg"),
        beats,
        other_system,
        no_value,
        _risk("r-02", 0.2),
        _risk("r-025", 0.25),
        _risk("r-08", 0.8),
        _risk("r-none", None),
    ]


@pytest.fixture(scope="module", params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirStore]:
    with seeded_store(request, tmp_path_factory, _resources()) as seeded:
        yield seeded


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5.4", {"q-54", "q-540", "q-544"}),  # 5.4 means [5.35, 5.45)
        ("5.40", {"q-54", "q-540"}),  # 5.40 means [5.395, 5.405)
        ("5.5", {"q-55"}),
        ("eq5.44", {"q-544"}),
        ("5", {"q-54", "q-540", "q-544"}),  # [4.5, 5.5)
        ("gt5.4", {"q-544", "q-55", "q-7mg", "q-beats"}),  # gt/lt/ge/le compare with the exact value
        ("lt5.4", {"q-other"}),
        ("ge5.4", {"q-54", "q-540", "q-544", "q-55", "q-7mg", "q-beats"}),
        ("le5.4", {"q-54", "q-540", "q-other"}),
        ("ne5.4", {"q-55", "q-7mg", "q-beats", "q-other"}),
        ("sa5.44", {"q-55", "q-7mg", "q-beats"}),
        ("eb5.44", {"q-54", "q-540", "q-other"}),
        ("ap100", {"q-beats"}),  # within 10%
        ("ap5", {"q-54", "q-540", "q-544", "q-55"}),
        ("5.4,7", {"q-54", "q-540", "q-544", "q-7mg"}),
        (f"5.4|{UCUM}|mmol/L", {"q-54", "q-540", "q-544"}),
        (f"7|{UCUM}|mg", {"q-7mg"}),
        ("7||mg", {"q-7mg"}),
        ("0.5||mg", {"q-other"}),  # ||code ignores the system
        (f"0.5|{UCUM}|mg", set()),
        ("100||beats/min", {"q-beats"}),  # ||unit matches the human unit when there is no code
        (f"gt1|{UCUM}|mg", {"q-7mg"}),
        (f"le7|{UCUM}|", {"q-54", "q-540", "q-544", "q-55", "q-7mg"}),
        ("5.4||mg", set()),
    ],
)
def test_value_quantity(store: FhirStore, value: str, expected: set[str]) -> None:
    assert ids(store, "Observation", [("value-quantity", value)]) == expected


def test_quantity_and_and_missing(store: FhirStore) -> None:
    assert ids(store, "Observation", [("value-quantity", "gt5"), ("value-quantity", "lt6")]) == {
        "q-54",
        "q-540",
        "q-544",
        "q-55",
    }
    assert ids(store, "Observation", "value-quantity:missing=true") == {"q-none"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.2", {"r-02"}),  # [0.15, 0.25)
        ("0.25", {"r-025"}),
        ("0.20", {"r-02"}),
        ("gt0.5", {"r-08"}),
        ("lt0.25", {"r-02"}),
        ("le0.25", {"r-02", "r-025"}),
        ("ge0.25", {"r-025", "r-08"}),
        ("ne0.2", {"r-025", "r-08"}),
        ("0.2,0.8", {"r-02", "r-08"}),
        ("ap0.8", {"r-08"}),
        ("1", {"r-08"}),  # [0.5, 1.5)
    ],
)
def test_number(store: FhirStore, value: str, expected: set[str]) -> None:
    assert ids(store, "RiskAssessment", [("probability", value)]) == expected


def test_missing_number(store: FhirStore) -> None:
    assert ids(store, "RiskAssessment", "probability:missing=true") == {"r-none"}
    assert ids(store, "RiskAssessment", "probability:missing=false") == {"r-02", "r-025", "r-08"}
