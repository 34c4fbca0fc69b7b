"""What secondary use (analytics) may ask: questions about groups of people, never about a named person.

The answers are pseudonymised (pseudonymise.py), so a question that names a person would undo it: a read by the
record's id, or a search by NHS number, name, address or exact birth date, returns a pseudonymised record that the
asker can tie back to the person they named. Those are refused (403) before the store is asked, whether or not the
person exists, so the refusal tells nothing either. Searches by clinical criteria (codes, dates, statuses,
organisations), type and system history, and bulk export are open; the criteria can still run through chains and
reverse chains, as long as every part of them passes the same test.
"""

from __future__ import annotations

from joinedup.fhir.errors import Forbidden
from joinedup.fhir.search_parameters import SearchParameter
from joinedup.fhir.search_request import ChainCriterion, Criterion, HasCriterion, ParamCriterion, SearchRequest

from .personal_types import PERSONAL_TYPES
from .pseudonymise import PERSON_TYPES

IDENTIFYING_PARAMETERS = frozenset(
    {
        "_id", "_content", "_text", "identifier", "name", "family", "given", "phonetic", "telecom", "phone", "email",
        "address", "address-city", "address-country", "address-postalcode", "address-state", "address-use",
        "birthdate", "death-date",
    }
)  # fmt: skip


def refuse_named_person(resource_type: str, interaction: str) -> None:
    """Reads, version reads, instance history, $everything and compartment searches name one person."""
    if resource_type in PERSONAL_TYPES:
        raise Forbidden(
            f"Secondary use sees pseudonymised data: {interaction} of a {resource_type} by its id is not offered; "
            "search by clinical criteria or use bulk export"
        )


def refuse_identifying_search(request: SearchRequest) -> None:
    for criterion in request.criteria:
        _check(criterion)
    for key in request.sort:
        _check_parameter(key.parameter, f"_sort={key.parameter.name}")


def _check(criterion: Criterion) -> None:
    if isinstance(criterion, ParamCriterion):
        _check_parameter(criterion.parameter, criterion.parameter.name)
        if criterion.modifier == "identifier":
            raise _refusal(f"{criterion.parameter.name}:identifier")
        if criterion.parameter.type == "reference" and criterion.modifier != "missing":
            for value in criterion.values:
                _check_reference_value(criterion.parameter, value.text)
    elif isinstance(criterion, ChainCriterion | HasCriterion):
        _check_parameter(criterion.reference, criterion.reference.name)
        _check(criterion.inner)


def _check_parameter(parameter: SearchParameter, shown: str) -> None:
    if parameter.name in IDENTIFYING_PARAMETERS:
        raise _refusal(shown)
    if parameter.type == "string" and parameter.resource_type in PERSON_TYPES:
        raise _refusal(shown)


def _check_reference_value(parameter: SearchParameter, value: str) -> None:
    """A reference to a personal resource names one person (`subject=Patient/123`); to a directory one it does
    not (`performer=Organization/abc`). A bare id counts as personal when any target type of the parameter is."""
    target_type, _, _ = value.rpartition("/")
    target_type = target_type.rsplit("/", 1)[-1]
    targets = (target_type,) if target_type else parameter.targets
    if any(t in PERSONAL_TYPES for t in targets):
        raise _refusal(f"{parameter.name}={value}")


def _refusal(shown: str) -> Forbidden:
    return Forbidden(
        f"Secondary use sees pseudonymised data: the search criterion '{shown}' could identify a person and is "
        "not offered"
    )
