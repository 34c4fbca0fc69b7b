"""Token search: system|code, |code, system|, code, :not, :text, identifiers, booleans, _id, _tag, _security."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from joinedup.fhir.nhs_number import NHS_NUMBER_SYSTEM
from joinedup.store.fhir_store import FhirStore

from ..fixtures import SNOMED, condition, nhs_number, patient
from .test_search_support import BACKENDS, ids, seeded_store

LOCAL = "http://example.org/codes"
MRN = "https://trust.example.org/Id/mrn"
TAGS = "http://example.org/tags"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
NHS_A = nhs_number(943_476_591)


def _resources() -> list[dict[str, Any]]:
    diabetes = condition("c-diabetes", "pa", "44054006", "Diabetes mellitus type 2")
    diabetes["code"]["text"] = "Sugar diabetes"  # the concept's own text, beside the coding's display
    local_same_code = condition("c-local", "pa", "44054006", "Local code")
    local_same_code["code"] = {"coding": [{"system": LOCAL, "code": "44054006"}]}  # no display, no text
    no_system = condition("c-nosys", "pb", "local-1", "Frailty")
    del no_system["code"]["coding"][0]["system"]
    text_only = condition("c-text", "pb", "x", "Feels unwell")
    text_only["code"] = {"text": "Feels unwell"}
    return [
        patient(
            "pa",
            nhs=NHS_A,
            active=True,
            identifier=[
                {"system": NHS_NUMBER_SYSTEM, "value": NHS_A},
                {"system": MRN, "value": "MRN-001", "type": {"text": "Hospital number"}},
            ],
            meta={
                "tag": [{"system": TAGS, "code": "vip", "display": "Very important"}],
                "security": [{"system": CONFIDENTIALITY, "code": "R"}],
            },
        ),
        patient("pb", gender="male", active=False, meta={"tag": [{"system": TAGS, "code": "research"}]}),
        patient("pc", gender="other"),
        diabetes,
        condition("c-htn", "pa", "38341003", "Hypertension", status="resolved"),
        local_same_code,
        no_system,
        text_only,
    ]


@pytest.fixture(scope="module", params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirStore]:
    with seeded_store(request, tmp_path_factory, _resources()) as seeded:
        yield seeded


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (f"code={SNOMED}|44054006", {"c-diabetes"}),
        ("code=44054006", {"c-diabetes", "c-local"}),  # any system
        ("code=|local-1", {"c-nosys"}),  # no system at all
        ("code=|44054006", set()),
        (f"code={LOCAL}|", {"c-local"}),  # any code in the system
        (f"code={SNOMED}|", {"c-diabetes", "c-htn"}),
        ("code=38341003,local-1", {"c-htn", "c-nosys"}),  # OR
        (f"code=44054006&code={LOCAL}|", {"c-local"}),  # AND
        # Two criteria of one shape: the second cannot share the first's kept condition (decision 0009)
        (f"code={SNOMED}|44054006&code={SNOMED}|44054006", {"c-diabetes"}),
        (f"code={SNOMED}|44054006&code={SNOMED}|38341003", set()),
        ("code=4405400", set()),  # codes match whole, never by prefix
        ("clinical-status=resolved", {"c-htn"}),
        ("clinical-status=active", {"c-diabetes", "c-local", "c-nosys", "c-text"}),
    ],
)
def test_codes(store: FhirStore, query: str, expected: set[str]) -> None:
    assert ids(store, "Condition", query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("code:not=44054006", {"c-htn", "c-nosys", "c-text"}),  # :not includes resources with no code at all
        (f"code:not={SNOMED}|44054006", {"c-htn", "c-local", "c-nosys", "c-text"}),
        ("code:not=44054006,38341003", {"c-nosys", "c-text"}),
        ("code:text=diabetes", {"c-diabetes"}),  # the coding's display...
        ("code:text=SUGAR", {"c-diabetes"}),  # ...and the concept's text, folded
        ("code:text=hyper", {"c-htn"}),
        ("code:text=unwell", {"c-text"}),  # text with no coding at all
        ("code:text=nothing-like-it", set()),
    ],
)
def test_not_and_text(store: FhirStore, query: str, expected: set[str]) -> None:
    assert ids(store, "Condition", query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (f"identifier={NHS_NUMBER_SYSTEM}|{NHS_A}", {"pa"}),
        (f"identifier={NHS_A}", {"pa"}),
        (f"identifier={MRN}|MRN-001", {"pa"}),
        (f"identifier={NHS_NUMBER_SYSTEM}|MRN-001", set()),
        ("identifier:text=hospital", {"pa"}),  # an Identifier's type text
        ("active=true", {"pa"}),
        ("active=false", {"pb"}),
        ("active:missing=true", {"pc"}),
        ("active:missing=false", {"pa", "pb"}),
        ("active:not=true", {"pb", "pc"}),
        ("gender=male,other", {"pb", "pc"}),
        ("_id=pa,pc", {"pa", "pc"}),
        ("_id=pa&_id=pb", set()),
        ("_id=nobody", set()),
        (f"_tag={TAGS}|vip", {"pa"}),
        ("_tag=vip,research", {"pa", "pb"}),
        ("_tag:not=vip", {"pb", "pc"}),
        ("_tag:text=important", {"pa"}),
        (f"_security={CONFIDENTIALITY}|R", {"pa"}),
        ("_security:missing=true", {"pb", "pc"}),
    ],
)
def test_identifiers_booleans_and_meta(store: FhirStore, query: str, expected: set[str]) -> None:
    assert ids(store, "Patient", query) == expected
