"""String search: case- and accent-insensitive prefix on every HumanName and Address part, :exact, :contains."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from joinedup.store.fhir_store import FhirStore

from ..fixtures import organization, patient
from .test_search_support import BACKENDS, ids, seeded_store


def _resources() -> list[dict[str, Any]]:
    return [
        patient("smith", family="Smith", given="Ann"),
        patient(
            "smithers",
            family="Smithers",
            given="Zoë",
            address=[{"line": ["4 Mill Lane"], "city": "Bolton", "postalCode": "BL1 1AA"}],
        ),
        patient(
            "goncalves",
            family="Gonçalves",
            given="José",
            address=[{"text": "Flat 2, Ancoats", "city": "Manchester", "district": "Ancoats", "country": "UK"}],
        ),
        patient("blacksmith", family="Blacksmith", given="Tom", address=[]),
        patient(
            "under",
            family="Under_score",
            given="Pat",
            name=[{"family": "Under_score", "prefix": ["Dr"]}],
            address=[{"city": "Leeds"}],
        ),
        organization("o-sjp", "Smith, Jones & Partners"),
        organization("o-smith", "Smith"),
        organization("o-jones", "Jones"),
    ]


@pytest.fixture(scope="module", params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirStore]:
    resources = _resources()
    del resources[3]["address"]  # Blacksmith has no address at all
    with seeded_store(request, tmp_path_factory, resources) as seeded:
        yield seeded


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("family=smith", {"smith", "smithers"}),  # a prefix, not a word: never the middle of a name
        ("family=SMITH", {"smith", "smithers"}),
        ("family=smithe", {"smithers"}),
        ("family=goncalves", {"goncalves"}),  # accent-insensitive both ways
        ("family=GONÇ", {"goncalves"}),
        ("given=zoe", {"smithers"}),
        ("given=jo", {"goncalves"}),
        ("name=ann", {"smith"}),  # name covers every HumanName part
        ("name=smithers", {"smithers"}),
        ("name=dr", {"under"}),  # ...including the prefix
        ("name=jos", {"goncalves"}),
        ("address=1 chap", {"smith"}),  # address covers line, city, district, postcode, text, country
        ("address=chapel", set()),  # a prefix of the whole line, not of a word in it
        ("address=salford", {"smith"}),
        ("address=m3", {"smith"}),
        ("address=4 mill", {"smithers"}),
        ("address=flat", {"goncalves"}),
        ("address=ancoats", {"goncalves"}),
        ("address-city=manchester", {"goncalves"}),
        ("address-city=ancoats", set()),  # the district is not the city
        ("address-postalcode=bl1", {"smithers"}),
        ("family=nobody", set()),
        ("family=smithers,goncalves", {"smithers", "goncalves"}),  # OR by comma
        ("family=smith&given=ann", {"smith"}),  # AND by repetition of different parameters
        ("name=smith&name=zo", {"smithers"}),  # AND by repetition of the same parameter
    ],
)
def test_default_string_search_is_a_folded_prefix(store: FhirStore, query: str, expected: set[str]) -> None:
    assert ids(store, "Patient", query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("family:exact=Smith", {"smith"}),
        ("family:exact=smith", set()),  # case matters
        ("family:exact=Smit", set()),  # whole value only
        ("family:exact=Gonçalves", {"goncalves"}),
        ("family:exact=Goncalves", set()),  # accents matter
        ("given:exact=Zoë", {"smithers"}),
        ("family:exact=Smith,Blacksmith", {"smith", "blacksmith"}),
    ],
)
def test_exact(store: FhirStore, query: str, expected: set[str]) -> None:
    assert ids(store, "Patient", query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("family:contains=smith", {"smith", "smithers", "blacksmith"}),
        ("family:contains=MITH", {"smith", "smithers", "blacksmith"}),
        ("family:contains=calv", {"goncalves"}),
        ("family:contains=çal", {"goncalves"}),
        ("family:contains=r_s", {"under"}),  # '_' is a literal, not a LIKE wildcard
        ("family:contains=r%s", set()),  # '%' too
        ("family:contains=e_s", set()),
        ("address:contains=pel str", {"smith"}),
        ("name:contains=ers", {"smithers"}),
    ],
)
def test_contains(store: FhirStore, query: str, expected: set[str]) -> None:
    assert ids(store, "Patient", query) == expected


def test_escaped_comma_is_part_of_the_value(store: FhirStore) -> None:
    assert ids(store, "Organization", [("name", r"Smith\, Jones")]) == {"o-sjp"}
    assert ids(store, "Organization", [("name", "Smith")]) == {"o-sjp", "o-smith"}
    assert ids(store, "Organization", [("name", "Smith,Jones")]) == {"o-sjp", "o-smith", "o-jones"}
    assert ids(store, "Organization", [("name:exact", r"Smith\, Jones & Partners,Jones")]) == {"o-sjp", "o-jones"}


def test_missing_string(store: FhirStore) -> None:
    assert ids(store, "Patient", "address:missing=true") == {"blacksmith"}
    assert ids(store, "Patient", "address:missing=false") == {"smith", "smithers", "goncalves", "under"}
