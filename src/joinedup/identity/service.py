"""What the person index offers the API and the pages, as functions of the caller's handle (decision 0313).

The service is made once per app by `identity.install` with the index's own system handle; each call takes the
caller's handle, so the gate decides what the caller may see and the capability `person-index.link` decides who may
decide about links. Decisions are written by the index as the system, with the reviewer as the Provenance's agent.
"""

from __future__ import annotations

from pathlib import Path

from joinedup.access.handle import CallerHandle, SystemHandle
from joinedup.fhir.errors import NotFound

from .arrivals import ArrivalLinker
from .decisions import Thresholds
from .index_store import DEFAULT_KEYS_DIR, IndexStore
from .permissions import PERSON_INDEX_LINK
from .resources import Resource, ReviewItem, ReviewStatus, person_resource
from .review import Reviewer
from .review_view import ReviewView, review_view


class PersonIndex:
    def __init__(self, system: SystemHandle, thresholds: Thresholds, keys_dir: Path = DEFAULT_KEYS_DIR) -> None:
        self.index = IndexStore(system, keys_dir)
        self.arrivals = ArrivalLinker(self.index, thresholds)

    def place_arrival(self, patient: Resource) -> None:
        """The after-write hook for a written Patient: place it against the index as it arrives."""
        self.arrivals.place(patient)

    @staticmethod
    def may_link(caller: CallerHandle) -> bool:
        return caller.may(PERSON_INDEX_LINK)

    def _reviewer(self, caller: CallerHandle) -> Reviewer:
        return Reviewer(self.index, IndexStore(caller))

    # --- decisions ----------------------------------------------------------------------------------------------
    def accept(self, caller: CallerHandle, task_id: str) -> Resource:
        return person_resource(self._reviewer(caller).accept(task_id))

    def reject(self, caller: CallerHandle, task_id: str) -> Resource:
        """The decided Task as the index holds it: a review Task names its records only as inputs, so the gate shows
        it to the system alone, and reading it through the reviewer's handle answered 404 after the rejection was
        made (found by the access matrix). The reviewer has just been shown both records, so the Task adds nothing."""
        self._reviewer(caller).reject(task_id)
        task = self.index.read("Task", task_id)
        if task is None:
            raise NotFound(f"Task/{task_id} is not known")
        return task

    def merge(self, caller: CallerHandle, person_id: str, other_id: str) -> Resource:
        return person_resource(self._reviewer(caller).merge(person_id, other_id))

    def unmerge(self, caller: CallerHandle, person_id: str, patient_id: str) -> Resource:
        return person_resource(self._reviewer(caller).unmerge(person_id, patient_id))

    # --- the review queue ---------------------------------------------------------------------------------------
    def reviews(self, caller: CallerHandle, status: ReviewStatus) -> list[ReviewItem]:
        """A reviewer's list is the index's reviews whose records they may both see: what the review pages show
        them. (A review Task names its records only as inputs, so the gate shows the Task itself to the system
        alone, and a reviewer's own search found none: the matrix showed the API list empty for every reviewer.)
        Anyone else gets what their own search finds: the system everything, secondary use pseudonymised Tasks."""
        if not self.may_link(caller):
            return IndexStore(caller).reviews(status)
        viewer = IndexStore(caller)
        return [
            item
            for item in self.index.reviews(status)
            if all(viewer.read("Patient", p) is not None for p in (item.patient_id, item.candidate_id) if p)
        ]

    def review(self, caller: CallerHandle, task_id: str) -> ReviewView:
        return review_view(self.index, IndexStore(caller), task_id)

    def queue(self, caller: CallerHandle, size: int) -> list[ReviewView]:
        """The first `size` open reviews whose records the caller may see."""
        viewer = IndexStore(caller)
        views = []
        for item in self.index.reviews(ReviewStatus.OPEN):
            view = review_view(self.index, viewer, item.id)
            if view.visible:
                views.append(view)
                if len(views) == size:
                    break
        return views
