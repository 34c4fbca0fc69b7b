"""A tiny place written to a real store (SQLite and PostgreSQL), with the session's trained model saved beside it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from joinedup.access.gate import AccessGate
from joinedup.fhir.source import SOURCE_URI_PREFIX
from joinedup.identity.index_store import PURPOSE, IndexStore
from joinedup.identity.model import LinkageModel
from joinedup.identity.resources import PersonState
from joinedup.settings import Settings
from joinedup.store.fhir_store import FhirStore

from .people import Person, moved_address, patient


def sourced(source: str, resource: dict[str, Any]) -> dict[str, Any]:
    resource["meta"] = {"source": f"{SOURCE_URI_PREFIX}{source}"}
    return resource


@dataclass
class TinyPlace:
    gate: AccessGate
    index: IndexStore

    def put(self, source: str, resource: dict[str, Any]) -> None:
        self.index.handle.update("Patient", resource["id"], sourced(source, resource))

    def person_of(self, patient_id: str) -> PersonState:
        found = self.index.person_of(patient_id)
        assert found is not None, f"{patient_id} has no Person"
        return found


def tiny_place(store: FhirStore, model: LinkageModel, people: list[Person]) -> TinyPlace:
    """Four people: one recorded twice with the same valid NHS number and birth date (deterministic), one recorded
    twice with a nickname and no NHS number on the council's side (probabilistic), one recorded once, and a council
    record with nothing but a family name (too sparse to match)."""
    gate = AccessGate(store)
    keys_dir = Settings().person_index_keys_dir  # the suite's temporary folder (tests/conftest.py KEY_FILES)
    place = TinyPlace(gate, IndexStore(gate.for_system(PURPOSE), keys_dir))
    place.index.save_model(model)
    same_nhs = people[0]
    nickname = next(p for p in people[1:] if p.nickname)
    alone = next(p for p in people[1:] if p is not nickname)
    place.put("gp", patient(same_nhs, "g-det", nhs=same_nhs.nhs, address=moved_address(same_nhs)))
    place.put("acute", patient(same_nhs, "a-det", nhs=same_nhs.nhs, family="Other-Name"))
    place.put("gp", patient(nickname, "g-prob", nhs=nickname.nhs))
    place.put("council", patient(nickname, "c-prob", given=nickname.nickname))
    place.put("gp", patient(alone, "g-alone", nhs=alone.nhs))
    place.put("council", {"resourceType": "Patient", "id": "c-sparse", "name": [{"family": people[-1].family}]})
    return place
