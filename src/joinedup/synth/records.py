"""What every source does for each person it knows: open a Patient record (sometimes two), number its own
resources, and note in the ground truth which true person each Patient is."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .fhir_build import Resource, day, meta, organisation, patient, ref
from .identity import Demographics, Identities, RecordNumbers

Write = Callable[[str, Resource], None]
LOCAL_PREFIX = {
    "gp": "G",
    "acute": "RM",
    "community": "CH",
    "mentalhealth": "MH",
    "socialcare": "LAS",
    "voluntary": "V",
}


@dataclass(slots=True)
class TruthRow:
    source: str
    patient_id: str
    person: int
    flags: tuple[str, ...]


@dataclass
class SourcePerson:
    """One person as one source knows them: their Patient id(s) and the source's numbering of their resources."""

    source: str
    number: int
    patient_ids: list[str]
    meta: Resource
    org_code: str
    rng: random.Random
    counters: dict[str, int] = field(default_factory=dict)

    def new_id(self, kind: str) -> str:
        count = self.counters.get(kind, 0) + 1
        self.counters[kind] = count
        return f"{self.source}-{kind}-{self.number:07d}-{count}"

    def subject(self) -> Resource:
        """The Patient an event is filed against: mostly the first record, sometimes the duplicate."""
        if len(self.patient_ids) > 1 and self.rng.random() < 0.3:
            return ref("Patient", self.patient_ids[1])
        return ref("Patient", self.patient_ids[0])


class PatientRecords:
    def __init__(self, seed: int, identities: Identities, total: int, write: Write, truth: list[TruthRow]) -> None:
        self.seed, self.identities, self.write, self.truth = seed, identities, write, truth
        self.numbers = {s: RecordNumbers(seed, s, total) for s in LOCAL_PREFIX}

    def open(
        self,
        source: str,
        person: int,
        true: Demographics,
        gp_code: str,
        death: int,
        ethnic: tuple[str, str] | None,
        org: tuple[str, str] | None = None,
    ) -> SourcePerson:
        """Write the source's Patient record(s) for the person; return how to file events against them."""
        org_code, org_name = org if org is not None else organisation(source)
        block = meta(source, org_code, org_name)
        numbers = self.numbers[source]
        copies = 2 if self.identities.has_duplicate(person, source) else 1
        ids = []
        for copy in range(copies):
            number = numbers.number(person, copy)
            patient_id = f"{source}-pat-{number:07d}"
            shown = self.identities.for_source(person, source, true, copy)
            local = f"{LOCAL_PREFIX[source]}{number:07d}"
            self.write(source, patient(patient_id, source, block, shown, local, gp_code, death, ethnic))
            self.truth.append(TruthRow(source, patient_id, person, shown.flags))
            ids.append(patient_id)
        rng = random.Random(f"{self.seed}:{person}:{source}:events")
        return SourcePerson(source, numbers.number(person), ids, block, org_code, rng)


def resource(resource_type: str, resource_id: str, holder: SourcePerson, /, **fields: Any) -> Resource:
    """A resource with the id and provenance first, as the store keeps them."""
    return {"resourceType": resource_type, "id": resource_id, "meta": holder.meta, **fields}


def service_request(holder: SourcePerson, code: Resource, authored: int, status: str, /, **fields: Any) -> Resource:
    """An order for a service (a referral, a package of care, a placement) for the holder's person, authored on the
    given day: every partner's ServiceRequests share these fields and differ in performer, requester and the rest."""
    return resource(
        "ServiceRequest",
        holder.new_id("sr"),
        holder,
        status=status,
        intent="order",
        code=code,
        subject=holder.subject(),
        authoredOn=day(authored),
        **fields,
    )
