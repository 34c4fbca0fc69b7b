"""What the gate handed back for a person, sorted for the page: their Patient records, their own resources, and
the directory resources those point at (organisations, staff) so references can be shown by name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from joinedup.fhir.source import SOURCE_TAG_SYSTEM, SOURCE_URI_PREFIX, source_of

from .fhir_display import human_name, reference_key

Resource = dict[str, Any]
DIRECTORY_TYPES = frozenset(
    {"Organization", "Practitioner", "PractitionerRole", "Location", "HealthcareService", "Endpoint", "Medication"}
)


@dataclass(frozen=True, slots=True)
class SourceOrg:
    """The partner organisation a resource came from: a stable key for filtering and a name to show."""

    key: str
    name: str


@dataclass
class RecordResources:
    patients: list[Resource] = field(default_factory=list)
    clinical: list[Resource] = field(default_factory=list)
    directory: dict[str, Resource] = field(default_factory=dict)
    _source_names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def sorted_from(cls, found: Iterable[Resource], patient_ids: Iterable[str]) -> RecordResources:
        wanted = set(patient_ids)
        sorted_out = cls()
        seen: set[str] = set()
        for resource in found:
            key = f"{resource.get('resourceType')}/{resource.get('id')}"
            if key in seen:
                continue
            seen.add(key)
            kind = resource.get("resourceType")
            if kind == "Patient" and resource.get("id") in wanted:
                sorted_out.patients.append(resource)
            elif kind in DIRECTORY_TYPES or kind == "Patient":
                sorted_out.directory[key] = resource
            else:
                sorted_out.clinical.append(resource)
        sorted_out._index_organisation_codes()
        return sorted_out

    def _index_organisation_codes(self) -> None:
        for resource in self.directory.values():
            if resource.get("resourceType") != "Organization" or not resource.get("name"):
                continue
            for identifier in resource.get("identifier") or []:
                if identifier.get("value"):
                    self._source_names[str(identifier["value"])] = str(resource["name"])

    def of_type(self, *types: str) -> list[Resource]:
        return [r for r in self.clinical if r.get("resourceType") in types]

    def named(self, reference: Resource | None) -> str:
        """The name of whoever a Reference points at: from the directory, else its display, else ''."""
        if not reference:
            return ""
        target = self.directory.get(reference_key(reference) or "")
        if target is not None:
            if target.get("resourceType") in {"Practitioner", "Patient", "RelatedPerson"}:
                return human_name(target.get("name"))
            if target.get("name"):
                return str(target["name"])
        return str(reference.get("display") or "")

    def source(self, resource: Resource) -> SourceOrg:
        """Which organisation this came from: the source-organisation tag, else meta.source's last segment."""
        for tag in (resource.get("meta") or {}).get("tag") or []:
            if tag.get("system") == SOURCE_TAG_SYSTEM and tag.get("code"):
                code = str(tag["code"])
                return SourceOrg(code, str(tag.get("display") or self._source_names.get(code, code)))
        uri = source_of(resource)
        if uri is None:
            return SourceOrg("unknown", "Organisation not recorded")
        key = uri.removeprefix(SOURCE_URI_PREFIX).rstrip("/").rsplit("/", 1)[-1] or uri
        return SourceOrg(key, self._source_names.get(key, key))
