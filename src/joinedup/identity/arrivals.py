"""Incremental matching against the stored index: a Patient is placed as it is written or loaded.

Candidates come from the store's own search index (the Patient search parameters stand in for the batch's
blocking keys: NHS number, birth date, postcode; by name only when none of those is known, because name searches
cost about a second on a borough-sized store), are scored with the stored model's weights in Python and decided
with the batch's thresholds. The placement is written in one transaction: the Person (a new one, or the candidate's
with one more link), the Provenance, and a review Task when a human must decide. Until the batch has trained a
model, nothing is placed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from joinedup.fhir import dates
from joinedup.fhir.nhs_number import NHS_NUMBER_SYSTEM

from .candidate_keys import CandidateKeys
from .clusters import new_person_id
from .decisions import Method, Outcome, RecordDecision, Thresholds, decide_pair, decide_record
from .index_store import IndexStore, linkage_record, model_version
from .model import LinkageModel
from .record import LinkageRecord
from .resources import (
    Activity,
    Agent,
    Assurance,
    PersonState,
    Resource,
    ReviewItem,
    derived_id,
    person_resource,
    provenance_resource,
    review_id,
    task_resource,
)
from .scoring import ScoringModel

log = logging.getLogger(__name__)
CANDIDATES_PER_SEARCH = 100


@dataclass(frozen=True)
class Placed:
    outcome: Outcome
    method: Method
    person_id: str


class ArrivalLinker:
    def __init__(self, store: IndexStore, thresholds: Thresholds | None = None) -> None:
        self.store = store
        self.thresholds = thresholds or Thresholds()
        self._model: tuple[int, LinkageModel, ScoringModel, str | None] | None = None

    def scorer(self) -> tuple[LinkageModel, ScoringModel] | None:
        """The stored model, parsed again only when the batch has saved a new one."""
        known = self._model[0] if self._model else None
        version, model = self.store.model_if_changed(known)
        if version is None:
            self._model = None
            return None
        if model is not None:
            self._model = (version, model, ScoringModel(model), self.store.model_stamp())
        assert self._model is not None
        return self._model[1], self._model[2]

    def place(self, patient: Resource) -> Placed | None:
        """Place one source Patient; None when there is no model yet or the Patient already has its Person (a
        changed record is looked at again by the next batch run)."""
        loaded = self.scorer()
        if loaded is None or self.store.person_of(str(patient["id"])) is not None:
            return None
        model, scorer = loaded
        record, decision = self.decide(patient, scorer)
        placed = self._write(record, decision, Agent.engine(model_version(model), model.nickname_version))
        keys = self._current_keys()
        if keys is not None:
            keys.add(record)
        return placed

    def decide(self, patient: Resource, scorer: ScoringModel) -> tuple[LinkageRecord, RecordDecision]:
        """The decision for one Patient against the stored index, writing nothing."""
        record = linkage_record(patient)
        candidates = self.candidates(record, patient)
        pairs = [decide_pair(record, c, scorer.score(record, c), self.thresholds) for c in candidates]
        return record, decide_record(record, pairs)

    def place_all(self, patients: list[Resource], progress: Callable[[int], None] | None = None) -> int:
        placed = 0
        for patient in patients:
            placed += self.place(patient) is not None
            if progress:
                progress(1)
        return placed

    def candidates(self, record: LinkageRecord, patient: Resource) -> list[LinkageRecord]:
        """The stored records sharing a blocking key with this one: ids from the index's own blocking table, the
        records read through the gate in one search; the store's searches when the table is not this model's."""
        keys = self._current_keys()
        if keys is None:
            return self._searched_candidates(record, patient)
        ids = keys.candidates(record)
        found: list[LinkageRecord] = []
        for start in range(0, len(ids), CANDIDATES_PER_SEARCH):
            chunk = ",".join(ids[start : start + CANDIDATES_PER_SEARCH])
            found += [linkage_record(p) for p in self.store.search("Patient", [("_id", chunk)])]
        return found

    def _current_keys(self) -> CandidateKeys | None:
        if self._model is None:
            return None
        keys = self.store.candidate_keys(self._model[1])
        return keys if keys.tag() == self._model[3] else None

    def _searched_candidates(self, record: LinkageRecord, patient: Resource) -> list[LinkageRecord]:
        found: dict[str, LinkageRecord] = {}
        for params in _searches(record, patient):
            for other in self.store.search("Patient", params, limit=CANDIDATES_PER_SEARCH):
                if other.get("id") != record.patient_id and other["id"] not in found:
                    found[other["id"]] = linkage_record(other)
        return list(found.values())

    def _write(self, record: LinkageRecord, decision: RecordDecision, agent: Agent) -> Placed:
        now = dates.format_instant(dates.now_instant())
        best = decision.best
        pid = record.patient_id
        if decision.outcome is Outcome.LINK and best is not None:
            candidate_id = best.right.split("|", 1)[1]
            person = self.store.person_of(candidate_id) or self._new_person(candidate_id, Assurance.CONFIRMED)
            strength = Assurance.CONFIRMED if best.method is Method.DETERMINISTIC else Assurance.PROBABLE
            person = PersonState(person.id, {**person.links, pid: strength})
            provenance = provenance_resource(
                derived_id("link", person.id, pid, candidate_id, best.method.value, agent.identifier),
                Activity.LINK, agent, [f"Person/{person.id}"], [pid, candidate_id], now, best.reason, best,
            )  # fmt: skip
            self.store.write([person_resource(person), provenance])
            return Placed(decision.outcome, decision.method, person.id)
        if decision.outcome is Outcome.REVIEW:
            person = self._new_person(pid, Assurance.AWAITING_REVIEW)
            candidate: str | None = best.right.split("|", 1)[1] if best is not None else None
            item_id = review_id(pid, candidate)
            provenance_id = derived_id("review", item_id, agent.identifier)
            item = ReviewItem(
                item_id, pid, candidate, decision.method,
                best.match_probability if best else 0.0, decision.reason, provenance_id=provenance_id,
            )  # fmt: skip
            provenance = provenance_resource(
                provenance_id, Activity.REVIEW, agent, [f"Task/{item_id}", f"Person/{person.id}"],
                [p for p in (pid, candidate) if p], now, decision.reason, best,
            )  # fmt: skip
            self.store.write([person_resource(person), task_resource(item, now), provenance])
            return Placed(decision.outcome, decision.method, person.id)
        person = self._new_person(pid, Assurance.CONFIRMED)
        self.store.write([person_resource(person)])
        return Placed(decision.outcome, decision.method, person.id)

    def _new_person(self, patient_id: str, assurance: Assurance) -> PersonState:
        """A Person for one record: the reproducible id for it, stepped past any Person already holding others."""
        taken: set[str] = set()
        while True:
            candidate = new_person_id([patient_id], taken)
            existing = self.store.read("Person", candidate)
            if existing is None or not [k for k in existing.get("link") or [] if k.get("target")]:
                return PersonState(candidate, {patient_id: assurance})
            taken.add(candidate)


def _searches(record: LinkageRecord, patient: Resource) -> list[list[tuple[str, str]]]:
    """The store searches that stand in for the blocking keys (each on values the index holds)."""
    searches: list[list[tuple[str, str]]] = []
    if record.nhs_number:
        searches.append([("identifier", f"{NHS_NUMBER_SYSTEM}|{record.nhs_number}")])
    if record.birth_date:
        searches.append([("birthdate", record.birth_date)])
    name: dict[str, Any] = next(iter(patient.get("name") or []), {})
    family = name.get("family") if isinstance(name, dict) else None
    given = next(iter(name.get("given") or []), None) if isinstance(name, dict) else None
    postcode = next((a.get("postalCode") for a in patient.get("address") or [] if a.get("postalCode")), None)
    if postcode:
        searches.append([("address-postalcode", postcode)])
    if family and given and not searches:
        # Name searches take about a second each on a borough-sized SQLite store (string prefix matching), so
        # only a record with no NHS number, birth date or postcode is looked up by name.
        searches.append([("family", family), ("given", given)])
    return searches
