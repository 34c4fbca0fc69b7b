"""What a reviewer sees for one review item: both records side by side and the evidence, field by field."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from joinedup.fhir.errors import NotFound

from .index_store import IndexStore, source_name
from .resources import Evidence, Resource, ReviewItem, evidence_of, review_item

# Splink's comparison names → what a reviewer calls them
FIELD_LABELS = {
    "prior": "Starting point (how often two records match)",
    "nhs_number": "NHS number",
    "given_name": "Given name",
    "family_name": "Family name",
    "birth_date": "Date of birth",
    "address": "Address",
    "sex": "Sex",
}


@dataclass(frozen=True)
class RecordSummary:
    patient_id: str
    source: str
    name: str
    birth_date: str
    sex: str
    nhs_number: str
    address: str
    visible: bool = True  # False: removed, or the gate does not let this reviewer see it


@dataclass(frozen=True)
class ReviewView:
    item: ReviewItem
    record: RecordSummary
    candidate: RecordSummary | None
    evidence: Evidence | None

    @property
    def visible(self) -> bool:
        return self.record.visible and (self.candidate is None or self.candidate.visible)

    def as_json(self) -> dict[str, Any]:
        found = asdict(self)
        found["item"]["method"] = self.item.method.value
        found["item"]["status"] = self.item.status.value
        return found


def review_view(index: IndexStore, viewer: IndexStore, task_id: str) -> ReviewView:
    """index: the person index as the system (Task, Provenance); viewer: the reviewer, through whose context the
    gate decides which of the two Patient records they may see."""
    task = index.read("Task", task_id)
    if task is None:
        raise NotFound(f"Task/{task_id} is not known")
    try:
        item = review_item(task)
    except (ValueError, KeyError):
        raise NotFound(f"Task/{task_id} is not a person-index review") from None
    record = _summary(viewer, item.patient_id)
    candidate = _summary(viewer, item.candidate_id) if item.candidate_id else None
    provenance = index.read("Provenance", item.provenance_id) if item.provenance_id else None
    return ReviewView(item, record, candidate, evidence_of(provenance) if provenance else None)


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " ").capitalize())


def _summary(store: IndexStore, patient_id: str) -> RecordSummary:
    patient = store.read("Patient", patient_id)
    if patient is None:
        return RecordSummary(patient_id, "", "", "", "", "", "", visible=False)
    return RecordSummary(
        patient_id=patient_id,
        source=source_name(patient),
        name=_name(patient),
        birth_date=str(patient.get("birthDate") or ""),
        sex=str(patient.get("gender") or ""),
        nhs_number=_nhs_number(patient),
        address=_address(patient),
    )


def _name(patient: Resource) -> str:
    for name in patient.get("name") or []:
        if name.get("text"):
            return str(name["text"])
        parts = [*(name.get("given") or []), name.get("family") or ""]
        joined = " ".join(p for p in parts if p)
        if joined:
            return joined
    return ""


def _nhs_number(patient: Resource) -> str:
    for identifier in patient.get("identifier") or []:
        if str(identifier.get("system", "")).endswith("nhs-number") and identifier.get("value"):
            return str(identifier["value"])
    return ""


def _address(patient: Resource) -> str:
    for address in patient.get("address") or []:
        parts = [*(address.get("line") or []), address.get("city") or "", address.get("postalCode") or ""]
        joined = ", ".join(p for p in parts if p)
        if joined:
            return joined
    return ""
