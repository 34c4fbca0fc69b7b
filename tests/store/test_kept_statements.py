"""Statements kept per search shape (decision 0009): one condition object per shape, each search's own values bound.

The oracle tests of each search kind run many values of each shape on one store, which shows that no search is
answered with another's values; these show that the shape is what is shared.
"""

from __future__ import annotations

from joinedup.fhir.search_request import parse_search
from joinedup.store.context import SYSTEM
from joinedup.store.search_compiler import matching


def test_searches_of_one_shape_share_a_kept_statement_with_their_own_values() -> None:
    """Decision 0009: a date search's lookup is kept per shape (type, parameter, prefixes), its numbers bound per
    search, so two days' searches use one statement object with different values (and the oracle tests above,
    which run many values of each shape on one store, show that no search is answered with another's values)."""

    def lookup(day: str) -> tuple[object, dict[str, object]]:
        request = parse_search("Encounter", [("date", f"ge{day}"), ("date", f"le{day}")])
        _, conditions, binds = matching(request, SYSTEM.visibility)
        return conditions[-1], binds

    first, first_binds = lookup("2021-06-15")
    second, second_binds = lookup("2022-01-31")
    assert first is second
    assert first_binds.keys() == second_binds.keys() and first_binds != second_binds


def test_token_and_reference_criteria_of_one_shape_share_a_kept_condition() -> None:
    """The same for a patient's Conditions by code: one kept condition per shape, each search's own values."""

    def lookup(patient: str, code: str) -> tuple[list[object], dict[str, object]]:
        request = parse_search(
            "Condition", [("subject", f"Patient/{patient}"), ("code", f"http://snomed.info/sct|{code}")]
        )
        _, conditions, binds = matching(request, SYSTEM.visibility)
        return conditions, binds

    first, first_binds = lookup("p1", "44054006")
    second, second_binds = lookup("p2", "38341003")
    assert [id(c) for c in first[-2:]] == [id(c) for c in second[-2:]]
    assert set(first_binds.values()) == {"Patient", "p1", "http://snomed.info/sct", "44054006"}
    assert set(second_binds.values()) == {"Patient", "p2", "http://snomed.info/sct", "38341003"}


def test_a_search_is_kept_whole_only_when_every_criterion_is_kept() -> None:
    """reads.py keeps the whole page statement only when every criterion's condition is a kept one: a repeated
    shape (built inline, its values in the statement) makes the search's statement its own."""
    from joinedup.store.search_compiler import matching_shape

    def kept(pairs: list[tuple[str, str]]) -> object:
        return matching_shape(parse_search("Condition", pairs), SYSTEM.visibility)[3]

    assert kept([("subject", "Patient/p1"), ("code", "http://snomed.info/sct|44054006")]) is not None
    # the first code leads (IN) and the second probes (EXISTS): two shapes; a third probe repeats the second's
    codes = [("code", f"http://snomed.info/sct|{n}") for n in (1, 2, 3)]
    assert kept(codes[:2]) is not None
    assert kept(codes) is None
    assert kept([("code:not", "http://snomed.info/sct|1")]) is None
