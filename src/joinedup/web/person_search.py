"""Person search: by NHS number, by name with date of birth, or by a local identifier — always through the gate."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Annotated

from fastapi import Form

from joinedup.access.capabilities import Capability
from joinedup.access.handle import CallerHandle
from joinedup.fhir.nhs_number import NHS_NUMBER_SYSTEM, is_valid, normalise
from joinedup.fhir.search_request import parse_search

from .patient_rows import PatientRow, row_for

RESULT_LIMIT = 20


@dataclass
class SearchForm:
    nhs_number: str = ""
    name: str = ""
    birth_day: str = ""
    birth_month: str = ""
    birth_year: str = ""
    local_id: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def posted(
        cls,
        nhs_number: Annotated[str, Form()] = "",
        name: Annotated[str, Form()] = "",
        birth_day: Annotated[str, Form()] = "",
        birth_month: Annotated[str, Form()] = "",
        birth_year: Annotated[str, Form()] = "",
        local_id: Annotated[str, Form()] = "",
    ) -> SearchForm:
        """The form's fields as posted: a FastAPI dependency (`Depends(SearchForm.posted)`) for every route that
        takes a person search (the search page, the single point of access's intake and identify)."""
        return cls(nhs_number, name, birth_day, birth_month, birth_year, local_id)

    def birth_date(self) -> date | None:
        try:
            return date(int(self.birth_year), int(self.birth_month), int(self.birth_day))
        except ValueError:
            return None


@dataclass
class SearchResults:
    rows: list[PatientRow]
    more: bool


def criteria(form: SearchForm) -> list[tuple[str, str]] | None:
    """The FHIR search for the form, or None with `form.errors` saying what to fix."""
    if form.nhs_number.strip():
        digits = normalise(form.nhs_number.strip())
        if not is_valid(digits):
            form.errors["nhs_number"] = "Enter a valid 10-digit NHS number, like 943 476 5919"
            return None
        return [("identifier", f"{NHS_NUMBER_SYSTEM}|{digits}")]
    if form.local_id.strip():
        return [("identifier", form.local_id.strip())]
    if form.name.strip() or form.birth_day or form.birth_month or form.birth_year:
        born = form.birth_date()
        if not form.name.strip():
            form.errors["name"] = "Enter a name to search with the date of birth"
        if born is None:
            form.errors["birth_date"] = "Enter a real date of birth, for example 27 3 1944"
        if form.errors or born is None:
            return None
        words = [("name", word) for word in form.name.replace(",", " ").split()]
        return [*words, ("birthdate", born.isoformat())]
    form.errors["nhs_number"] = "Enter an NHS number, a name and date of birth, or a local identifier"
    return None


def find(caller: CallerHandle, wanted: list[tuple[str, str]]) -> SearchResults:
    pairs = [
        *wanted,
        ("_count", str(RESULT_LIMIT)),
        ("_sort", "family,given"),
        ("_include", "Patient:general-practitioner"),
    ]
    page = caller.search(parse_search("Patient", pairs))
    directory = {f"{r['resourceType']}/{r['id']}": r for r in page.included}
    return SearchResults([row_for(p, directory) for p in page.matches], page.has_next)


def trace(caller: CallerHandle, capability: Capability, wanted: list[tuple[str, str]]) -> SearchResults:
    """The same search across the whole place, for a front door that takes contacts about anyone (a single point
    of access): the gate's trace, Patients only (so no practice names beside them)."""
    pairs = [*wanted, ("_count", str(RESULT_LIMIT)), ("_sort", "family,given")]
    page = caller.trace(capability, parse_search("Patient", pairs))
    return SearchResults([row_for(p, {}) for p in page.matches], page.has_next)
