"""The person banner: who this is, at a glance, on every record page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from .fhir_display import address, age, concept, human_name, long_date, nhs_number
from .record_resources import RecordResources

Resource = dict[str, Any]


@dataclass(frozen=True)
class Banner:
    name: str
    birth_date: str
    age: int | None
    nhs_number: str | None
    address: str
    gp_practice: str
    flags: tuple[str, ...]
    key_worker: str | None
    deceased: str | None
    gender: str


def _key_worker(record: RecordResources) -> str | None:
    for episode in record.of_type("EpisodeOfCare"):
        if episode.get("status") == "active" and episode.get("careManager"):
            name = record.named(episode["careManager"])
            organisation = record.named(episode.get("managingOrganization")) or record.source(episode).name
            if name:
                return f"{name} ({organisation})"
    return None


def banner_for(patient: Resource, record: RecordResources, today: date) -> Banner:
    practices = [record.named(p) for p in patient.get("generalPractitioner") or []]
    flags = tuple(
        concept(f.get("code")) for f in record.of_type("Flag") if f.get("status") == "active" and f.get("code")
    )
    deceased = patient.get("deceasedDateTime")
    return Banner(
        name=human_name(patient.get("name")),
        birth_date=long_date(patient.get("birthDate")) or "Not recorded",
        age=None if deceased else age(patient.get("birthDate"), today),
        nhs_number=nhs_number(patient),
        address=address(patient.get("address")),
        gp_practice=", ".join(p for p in practices if p) or "Not recorded",
        flags=flags,
        key_worker=_key_worker(record),
        deceased=long_date(deceased) if isinstance(deceased, str) else None,
        gender=str(patient.get("gender", "")).capitalize() or "Not recorded",
    )
