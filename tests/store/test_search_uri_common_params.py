"""uri search (Questionnaire url, _profile, _source) with :below and :above, and :missing on several types."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from joinedup.store.fhir_store import FhirStore

from ..fixtures import observation, patient
from .test_search_support import BACKENDS, ids, seeded_store

BASE = "http://example.org/fhir"
PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"


def _questionnaire(qid: str, url: str | None) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Questionnaire", "id": qid, "status": "active"}
    if url:
        resource["url"] = url
    return resource


def _resources() -> list[dict[str, Any]]:
    return [
        _questionnaire("q-root", BASE),
        _questionnaire("q-phq9", f"{BASE}/Questionnaire/phq-9"),
        _questionnaire("q-gad7", f"{BASE}/Questionnaire/gad-7"),
        _questionnaire("q-fhirish", "http://example.org/fhirish/Questionnaire/x"),
        _questionnaire("q-nourl", None),
        patient("p-gp", meta={"profile": [PROFILE], "source": "https://joinedup.example/source/gp-1#a1"}),
        patient("p-trust", meta={"source": "https://joinedup.example/source/trust"}),
        patient("p-bare", birth="1990", active=True),
        observation("o-1", "p-gp", "1", 1.0),
    ]


@pytest.fixture(scope="module", params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirStore]:
    resources = _resources()
    del resources[7]["birthDate"], resources[7]["name"], resources[7]["address"]  # p-bare has little
    with seeded_store(request, tmp_path_factory, resources) as seeded:
        yield seeded


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (f"url={BASE}/Questionnaire/phq-9", {"q-phq9"}),
        (f"url={BASE}/Questionnaire/phq", set()),  # uri matches whole by default
        (f"url={BASE}/Questionnaire/PHQ-9", set()),  # ...and case-sensitively
        (f"url={BASE}/Questionnaire/phq-9,{BASE}/Questionnaire/gad-7", {"q-phq9", "q-gad7"}),
        (f"url:below={BASE}/Questionnaire", {"q-phq9", "q-gad7"}),
        (f"url:below={BASE}", {"q-root", "q-phq9", "q-gad7"}),  # by path segment: not .../fhirish
        (f"url:above={BASE}/Questionnaire/phq-9", {"q-root", "q-phq9"}),
        (f"url:above={BASE}/Questionnaire/phq-9/_history/2", {"q-root", "q-phq9"}),
        ("url:missing=true", {"q-nourl"}),
        ("url:missing=false", {"q-root", "q-phq9", "q-gad7", "q-fhirish"}),
    ],
)
def test_questionnaire_url(store: FhirStore, query: str, expected: set[str]) -> None:
    assert ids(store, "Questionnaire", query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (f"_profile={PROFILE}", {"p-gp"}),
        ("_profile:below=https://fhir.hl7.org.uk/StructureDefinition", {"p-gp"}),
        ("_profile:missing=true", {"p-trust", "p-bare"}),
        ("_source=https://joinedup.example/source/trust", {"p-trust"}),
        ("_source=https://joinedup.example/source/gp-1#a1", {"p-gp"}),
        ("_source:below=https://joinedup.example/source", {"p-gp", "p-trust"}),
        ("_source:missing=true", {"p-bare"}),
        # :missing on several parameter types at once
        ("birthdate:missing=true", {"p-bare"}),  # date
        ("name:missing=true", {"p-bare"}),  # string
        ("active:missing=false", {"p-bare"}),  # token
        ("general-practitioner:missing=false", set()),  # reference
        ("_has:Observation:patient:code:missing=false", {"p-gp"}),
    ],
)
def test_common_parameters_and_missing(store: FhirStore, query: str, expected: set[str]) -> None:
    assert ids(store, "Patient", query) == expected
