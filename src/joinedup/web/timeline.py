"""One timeline across every organisation: each clinical resource becomes an entry (when, kind, what, from whom),
newest first, filterable by organisation, kind and date, and cut into pages so thousands of entries never make one
enormous page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from .fhir_display import concept, first_concept, long_date, parse_day
from .record_resources import RecordResources, SourceOrg

Resource = dict[str, Any]
PAGE_SIZE = 50

# resource type → (kind shown on the page, paths to its clinically meaningful date, in order of preference)
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Encounter": ("Contact", ("period.start",)),
    "Appointment": ("Appointment", ("start",)),
    "Condition": ("Problem", ("onsetDateTime", "recordedDate", "onsetPeriod.start")),
    "MedicationRequest": ("Medication", ("authoredOn",)),
    "MedicationStatement": ("Medication", ("effectiveDateTime", "effectivePeriod.start", "dateAsserted")),
    "MedicationAdministration": ("Medication", ("effectiveDateTime", "effectivePeriod.start")),
    "Immunization": ("Immunisation", ("occurrenceDateTime",)),
    "AllergyIntolerance": ("Allergy", ("recordedDate", "onsetDateTime")),
    "Observation": ("Observation", ("effectiveDateTime", "effectivePeriod.start", "issued")),
    "DiagnosticReport": ("Test result", ("effectiveDateTime", "effectivePeriod.start", "issued")),
    "Procedure": ("Procedure", ("performedDateTime", "performedPeriod.start")),
    "CarePlan": ("Care plan", ("period.start", "created")),
    "ServiceRequest": ("Referral", ("authoredOn", "occurrenceDateTime")),
    "Task": ("Task", ("authoredOn", "lastModified")),
    "EpisodeOfCare": ("Episode of care", ("period.start",)),
    "DocumentReference": ("Document", ("date", "context.period.start")),
    "Composition": ("Document", ("date",)),
    "Communication": ("Message", ("sent", "received")),
    "QuestionnaireResponse": ("Assessment", ("authored",)),
    "RiskAssessment": ("Assessment", ("occurrenceDateTime",)),
    "Flag": ("Alert", ("period.start",)),
    "Goal": ("Goal", ("startDate",)),
    "Consent": ("Consent", ("dateTime",)),
}


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    when: str  # ISO date (sortable); '' when the resource carries none
    kind: str
    title: str
    detail: str
    source: SourceOrg
    reference: str

    @property
    def date_text(self) -> str:
        return long_date(self.when) or "Date not recorded"


@dataclass(frozen=True)
class TimelineFilter:
    organisation: str = ""
    kind: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def admits(self, entry: TimelineEntry) -> bool:
        if self.organisation and entry.source.key != self.organisation:
            return False
        if self.kind and entry.kind != self.kind:
            return False
        if self.date_from or self.date_to:
            day = parse_day(entry.when)
            if day is None:
                return False
            if self.date_from and day < self.date_from:
                return False
            if self.date_to and day > self.date_to:
                return False
        return True

    @property
    def active(self) -> bool:
        return bool(self.organisation or self.kind or self.date_from or self.date_to)


@dataclass(frozen=True)
class TimelinePage:
    entries: list[TimelineEntry]
    total: int
    page: int
    size: int

    @property
    def first_number(self) -> int:
        return (self.page - 1) * self.size + 1 if self.entries else 0

    @property
    def last_number(self) -> int:
        return self.first_number + len(self.entries) - 1 if self.entries else 0

    @property
    def has_next(self) -> bool:
        return self.page * self.size < self.total

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def _at(resource: Resource, path: str) -> str:
    node: Any = resource
    for part in path.split("."):
        if not isinstance(node, dict):
            return ""
        node = node.get(part)
    return node if isinstance(node, str) else ""


def _title(resource: Resource) -> str:
    for key in ("code", "medicationCodeableConcept", "vaccineCode"):
        text = concept(resource.get(key))
        if text:
            return text
    for key in ("type", "serviceType", "category"):
        value = resource.get(key)
        text = first_concept(value) if isinstance(value, list) else concept(value)
        if text:
            return text
    for key in ("title", "description", "name"):
        if resource.get(key):
            return str(resource[key])
    return str(resource.get("resourceType", "Entry"))


def _detail(resource: Resource) -> str:
    quantity = resource.get("valueQuantity")
    if isinstance(quantity, dict) and "value" in quantity:
        return f"{quantity['value']} {quantity.get('unit', '')}".strip()
    for key in ("valueString", "status"):
        if resource.get(key):
            return str(resource[key]).replace("-", " ").capitalize()
    return ""


def entry_for(resource: Resource, record: RecordResources) -> TimelineEntry | None:
    resource_type = str(resource.get("resourceType"))
    known = KINDS.get(resource_type)
    if known is None:
        return None
    kind, paths = known
    when = next((found for path in paths if (found := _at(resource, path))), "")
    return TimelineEntry(
        when=when[:10],
        kind=kind,
        title=_title(resource),
        detail=_detail(resource),
        source=record.source(resource),
        reference=f"{resource_type}/{resource.get('id')}",
    )


def build(resources: Iterable[Resource], record: RecordResources) -> list[TimelineEntry]:
    """Every entry, newest first (undated ones last)."""
    entries = [e for r in resources if (e := entry_for(r, record)) is not None]
    entries.sort(key=lambda e: (e.when != "", e.when, e.reference), reverse=True)
    return entries


def page_of(entries: list[TimelineEntry], wanted: TimelineFilter, page: int, size: int = PAGE_SIZE) -> TimelinePage:
    chosen = [e for e in entries if wanted.admits(e)] if wanted.active else entries
    last_page = max(1, -(-len(chosen) // size))
    page = min(max(1, page), last_page)
    start = (page - 1) * size
    return TimelinePage(chosen[start : start + size], len(chosen), page, size)
