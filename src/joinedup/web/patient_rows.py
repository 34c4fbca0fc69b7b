"""One line per Patient record in a list (search results, registered lists, caseloads): enough to tell people
apart — name, date of birth, NHS number (3-3-4), address, GP practice — and which organisation's record it is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from joinedup.fhir.source import SOURCE_TAG_SYSTEM

from .fhir_display import address, human_name, local_identifiers, long_date, nhs_number, reference_key

Resource = dict[str, Any]


@dataclass(frozen=True, slots=True)
class PatientRow:
    id: str
    name: str
    birth_date: str
    nhs_number: str | None
    address: str
    gp_practice: str
    record_from: str
    local_ids: tuple[str, ...]
    note: str = ""


def _record_from(patient: Resource) -> str:
    for tag in (patient.get("meta") or {}).get("tag") or []:
        if tag.get("system") == SOURCE_TAG_SYSTEM:
            return str(tag.get("display") or tag.get("code") or "")
    return ""


def row_for(patient: Resource, directory: dict[str, Resource], note: str = "") -> PatientRow:
    practices = []
    for practice in patient.get("generalPractitioner") or []:
        found = directory.get(reference_key(practice) or "")
        practices.append(str((found or {}).get("name") or practice.get("display") or "Not recorded"))
    return PatientRow(
        id=str(patient["id"]),
        name=human_name(patient.get("name")),
        birth_date=long_date(patient.get("birthDate")) or "Not recorded",
        nhs_number=nhs_number(patient),
        address=address(patient.get("address")),
        gp_practice=", ".join(practices) or "Not recorded",
        record_from=_record_from(patient),
        local_ids=tuple(local_identifiers(patient)),
        note=note,
    )
