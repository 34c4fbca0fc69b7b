"""A reviewer's decisions: accept or reject a candidate link, merge two Persons, unmerge a record.

The reviewer reads both records through the gate with their own context (so the gate decides what they may see);
the change is then written by the index as the system, in one transaction, and recorded as a Provenance with the
reviewer as agent. Nothing is deleted: a merged-away Person stays,
inactive, pointing at the Person it joined; an unmerged record gets a Person of its own again; every change is a
new version of the Person, so its history shows every merge and unmerge. Source Patients and everything written
against them are never touched.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace

from joinedup.access.roles import catalogue
from joinedup.fhir import dates
from joinedup.fhir.errors import Forbidden, InvalidRequest, NotFound

from .clusters import new_person_id
from .index_store import IndexStore
from .resources import (
    Activity,
    Agent,
    Assurance,
    PersonState,
    Resource,
    ReviewItem,
    ReviewStatus,
    person_resource,
    provenance_resource,
    review_item,
    task_resource,
)

# Deciding that records are (or are not) one person changes whose record everyone sees: a capability of its own
# (roles.json), held by the clinical and social care roles that review links and by the system.
LINK_CAPABILITY = "person-index.link"


def may_decide_links(role_name: str) -> bool:
    """Whether the role may accept or reject a link, merge or unmerge (an unknown role may not)."""
    roles = catalogue()
    return roles.known(role_name) and roles.get(role_name).may(LINK_CAPABILITY)


class Reviewer:
    def __init__(self, index: IndexStore, viewer: IndexStore) -> None:
        """index: the person index as the system; viewer: the same gate with the reviewer's AccessContext."""
        if not may_decide_links(viewer.ctx.role):
            raise Forbidden(f"The role '{viewer.ctx.role}' may not review record links")
        self.store = index
        self.writer = index
        self.viewer = viewer
        self.agent = Agent.reviewer(viewer.ctx.user)

    def _may_see(self, *patient_ids: str | None) -> None:
        """A reviewer decides only about records the gate lets them see."""
        for patient_id in patient_ids:
            if patient_id is not None and self.viewer.read("Patient", patient_id) is None:
                raise NotFound(f"Patient/{patient_id} is not known")

    # --- review items --------------------------------------------------------------------------------------------
    def item(self, task_id: str) -> ReviewItem:
        task = self.store.read("Task", task_id)
        if task is None:
            raise NotFound(f"Task/{task_id} is not known")
        try:
            return review_item(task)
        except (ValueError, KeyError):
            raise NotFound(f"Task/{task_id} is not a person-index review") from None

    def accept(self, task_id: str) -> PersonState:
        """The two records are one person: their Persons are merged (the larger keeps its id)."""
        item = self._open(task_id)
        self._may_see(item.patient_id, item.candidate_id)
        if item.candidate_id is None:
            raise InvalidRequest("This record has no candidate to link to; reject to keep it as a person of its own")
        kept, changes = self._merged(item.patient_id, item.candidate_id)
        done = task_resource(replace(item, status=ReviewStatus.ACCEPTED), self._now())
        record = self._provenance(Activity.ACCEPT, [f"Person/{kept.id}", f"Task/{item.id}"],
                                  [item.patient_id, item.candidate_id], "a reviewer accepted the link")  # fmt: skip
        self.writer.write([*changes, done, record])
        return kept

    def reject(self, task_id: str) -> PersonState | None:
        """Not the same person (or, for a sparse record, a person of its own): the record stays where it is."""
        item = self._open(task_id)
        self._may_see(item.patient_id, item.candidate_id)
        changes: list[Resource] = []
        person = self.store.person_of(item.patient_id)
        if person is not None and person.links.get(item.patient_id) is Assurance.AWAITING_REVIEW:
            others = [r for r in self.store.reviews() if item.patient_id in (r.patient_id, r.candidate_id)]
            if len(others) <= 1:
                person = PersonState(person.id, {**person.links, item.patient_id: Assurance.CONFIRMED})
                changes.append(person_resource(person))
        done = task_resource(replace(item, status=ReviewStatus.REJECTED), self._now())
        about = [p for p in (item.patient_id, item.candidate_id) if p]
        targets = [f"Task/{item.id}", *([f"Person/{person.id}"] if person else [])]
        record = self._provenance(Activity.REJECT, targets, about, "a reviewer rejected the link")
        self.writer.write([*changes, done, record])
        return person

    # --- merge and unmerge ---------------------------------------------------------------------------------------
    def merge(self, person_id: str, other_id: str) -> PersonState:
        """Two Persons are one human: the other's records join this Person; the other stays, inactive."""
        keep, other = self._person(person_id), self._person(other_id)
        if keep.id == other.id or not keep.links or not other.links:
            raise InvalidRequest("Merge needs two different active Persons with records")
        self._may_see(*keep.links, *other.links)
        kept, changes = self._merged(next(iter(other.links)), next(iter(keep.links)), keep_id=keep.id)
        about = [*keep.links, *other.links]
        record = self._provenance(Activity.MERGE, [f"Person/{keep.id}", f"Person/{other.id}"], about,
                                  "a reviewer merged two persons")  # fmt: skip
        self.writer.write([*changes, record])
        return kept

    def unmerge(self, person_id: str, patient_id: str) -> PersonState:
        """Take one source record out of a Person: it gets a Person of its own; the rest stay together."""
        person = self._person(person_id)
        if patient_id not in person.links:
            raise InvalidRequest(f"Patient/{patient_id} is not linked to Person/{person_id}")
        if len(person.links) == 1:
            raise InvalidRequest("The record is the only one of this Person: there is nothing to unmerge")
        self._may_see(patient_id)
        remaining = {k: v for k, v in person.links.items() if k != patient_id}
        left = PersonState(person.id, remaining)
        alone = PersonState(self._own_person_id(patient_id, {person.id}), {patient_id: Assurance.CONFIRMED})
        record = self._provenance(Activity.UNMERGE, [f"Person/{person.id}", f"Person/{alone.id}"], list(remaining),
                                  "a reviewer unmerged a record", removed=patient_id)  # fmt: skip
        superseded = [
            task_resource(replace(r, status=ReviewStatus.SUPERSEDED), self._now())
            for r in self.store.reviews()
            if patient_id in (r.patient_id, r.candidate_id)
        ]
        self.writer.write([person_resource(left), person_resource(alone), record, *superseded])
        return alone

    # --- helpers -------------------------------------------------------------------------------------------------
    def _merged(
        self, patient_id: str, candidate_id: str, keep_id: str | None = None
    ) -> tuple[PersonState, list[Resource]]:
        mine = self.store.person_of(patient_id) or PersonState(self._own_person_id(patient_id), {})
        theirs = self.store.person_of(candidate_id) or PersonState(self._own_person_id(candidate_id), {})
        mine = replace(mine, links={**mine.links, patient_id: mine.links.get(patient_id, Assurance.CONFIRMED)})
        theirs = replace(theirs, links={**theirs.links, candidate_id: Assurance.CONFIRMED})
        if mine.id == theirs.id:
            joined = PersonState(mine.id, {**mine.links, **theirs.links, patient_id: Assurance.CONFIRMED})
            return joined, [person_resource(joined)]
        if keep_id is None:
            keep_id = theirs.id if len(theirs.links) >= len(mine.links) else mine.id
        gone = mine if keep_id == theirs.id else theirs
        links = {**mine.links, **theirs.links, patient_id: Assurance.CONFIRMED, candidate_id: Assurance.CONFIRMED}
        kept = PersonState(keep_id, links)
        retired = PersonState(gone.id, {}, active=False, merged_into=keep_id)
        return kept, [person_resource(kept), person_resource(retired)]

    def _own_person_id(self, patient_id: str, not_these: set[str] | None = None) -> str:
        """The Person this record would have alone (reactivated if it was merged away), stepped past any other."""
        taken = set(not_these or ())
        while True:
            candidate = new_person_id([patient_id], taken)
            existing = self.store.read("Person", candidate)
            if existing is None or not any(
                "Patient/" in str((link.get("target") or {}).get("reference")) for link in existing.get("link") or []
            ):
                return candidate
            taken.add(candidate)

    def _person(self, person_id: str) -> PersonState:
        from .resources import person_state

        found = self.store.read("Person", person_id)
        if found is None:
            raise NotFound(f"Person/{person_id} is not known")
        state = person_state(found)
        if not state.active:
            raise InvalidRequest(f"Person/{person_id} is inactive (merged into Person/{state.merged_into})")
        return state

    def _open(self, task_id: str) -> ReviewItem:
        item = self.item(task_id)
        if item.status is not ReviewStatus.OPEN:
            raise InvalidRequest(f"Task/{task_id} was already decided ({item.status.name.lower()})")
        return item

    def _provenance(
        self, activity: Activity, targets: list[str], about: Sequence[str], reason: str, removed: str | None = None
    ) -> Resource:
        return provenance_resource(
            str(uuid.uuid4()), activity, self.agent, targets, about, self._now(), reason, removed=removed
        )

    @staticmethod
    def _now() -> str:
        return dates.format_instant(dates.now_instant())
