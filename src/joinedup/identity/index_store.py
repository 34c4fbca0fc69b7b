"""Reading and writing the person index through a handle made by the access gate (never a side door to the store):
the system's handle (`gate.for_system(PURPOSE)`, audited as 'Device/person-index') for linking, or a reviewer's
own handle for what they may see.

Source Patients, the index's Persons, review Tasks, reviewers' decisions and the trained model (a Binary) are all
ordinary FHIR resources; writes go in transaction bundles, so each group of changes is all or nothing.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

from joinedup.access.context import AccessContext
from joinedup.access.handle import CallerHandle, SystemHandle
from joinedup.fhir.errors import Forbidden, Gone, NotFound
from joinedup.fhir.search_request import MAX_COUNT, parse_search
from joinedup.fhir.source import SOURCE_URI_PREFIX, source_of

from .candidate_keys import CandidateKeys, default_path
from .features import patient_to_record
from .model import LinkageModel
from .record import LinkageRecord
from .resources import (
    CODE_SYSTEM,
    INDEX_SOURCE,
    INDEX_TAG,
    PARTICIPANT_TYPE,
    REVIEW_CODE,
    REVIEWER_ROLE,
    PersonState,
    Resource,
    ReviewItem,
    ReviewStatus,
    person_state,
    review_item,
)

# The person index acts as the system: it must see every source record to link it (decision 0200).
PURPOSE = "person-index"
MODEL_BINARY_ID = "person-index-model"
WRITE_CHUNK = 500  # resources per transaction bundle
DEFAULT_KEYS_DIR = Path("var/person-index")


def source_name(patient: Resource) -> str:
    """The partner a Patient came from, short: 'https://joinedup.example/source/gp' → 'gp'."""
    source = source_of(patient) or "unknown"
    return source.removeprefix(SOURCE_URI_PREFIX)


def linkage_record(patient: Resource) -> LinkageRecord:
    return patient_to_record(patient, source_name(patient))


class IndexStore:
    def __init__(self, handle: CallerHandle, keys_dir: Path = DEFAULT_KEYS_DIR) -> None:
        """keys_dir: where the blocking table of a non-SQLite store is kept (Settings.person_index_keys_dir)."""
        self.handle = handle
        self.keys_dir = keys_dir

    @property
    def ctx(self) -> AccessContext:
        return self.handle.context

    def _system(self) -> SystemHandle:
        if not isinstance(self.handle, SystemHandle):
            raise Forbidden("Only the person index's own (system) work does this")
        return self.handle

    # --- reads ---------------------------------------------------------------------------------------------------
    def search(self, resource_type: str, params: Sequence[tuple[str, str]], limit: int | None = None) -> list[Resource]:
        return list(self.iterate(resource_type, params, limit=limit))

    def iterate(
        self,
        resource_type: str,
        params: Sequence[tuple[str, str]],
        page_size: int = MAX_COUNT,
        on_page: Callable[[int, int | None], None] | None = None,
        limit: int | None = None,
    ) -> Iterator[Resource]:
        """Every match, a page at a time (ordered by the store's row order, so paging is stable)."""
        offset = 0
        while True:
            request = parse_search(resource_type, list(params))
            request.count = page_size if limit is None else min(page_size, limit - offset)
            request.offset = offset
            request.total = "accurate" if on_page is not None and offset == 0 else "none"
            page = self.handle.search(request)
            yield from page.matches
            offset += len(page.found)
            if on_page is not None:
                on_page(len(page.found), page.total)
            if not page.has_next or (limit is not None and offset >= limit):
                return

    def source_patients(self, on_page: Callable[[int, int | None], None] | None = None) -> list[Resource]:
        return list(self.iterate("Patient", [], on_page=on_page))

    def read(self, resource_type: str, resource_id: str) -> Resource | None:
        try:
            return self.handle.read(resource_type, resource_id).content
        except (NotFound, Gone):
            return None

    def persons(self) -> dict[str, PersonState]:
        found = self.iterate("Person", [("_tag", f"{CODE_SYSTEM}|{INDEX_TAG['code']}")])
        return {p["id"]: person_state(p) for p in found}

    def person_of(self, patient_id: str) -> PersonState | None:
        for person in self.search(
            "Person", [("link", f"Patient/{patient_id}"), ("_tag", f"{CODE_SYSTEM}|person-index")]
        ):
            state = person_state(person)
            if state.active and patient_id in state.links:
                return state
        return None

    def reviews(self, status: ReviewStatus | None = ReviewStatus.OPEN) -> list[ReviewItem]:
        params = [("code", f"{CODE_SYSTEM}|{REVIEW_CODE}")]
        if status is not None:
            params.append(("status", status.value))
        return [review_item(t) for t in self.iterate("Task", params)]

    def human_decisions(self) -> list[Resource]:
        """Reviewers' Provenances, oldest first: accepted and rejected links, merges and unmerges."""
        found = self.search(
            "Provenance", [("agent-type", f"{PARTICIPANT_TYPE}|{REVIEWER_ROLE}"), ("_sort", "recorded")]
        )
        return [p for p in found if p.get("meta", {}).get("source") == INDEX_SOURCE]

    # --- the model -----------------------------------------------------------------------------------------------
    def model(self) -> LinkageModel | None:
        return self.model_if_changed(None)[1]

    def model_if_changed(self, known_version: int | None) -> tuple[int | None, LinkageModel | None]:
        """(the stored model's version, the model, parsed only when its version is not `known_version`)."""
        try:
            stored = self.handle.read("Binary", MODEL_BINARY_ID)
        except (NotFound, Gone):
            return None, None
        if stored.version_id == known_version:
            return known_version, None
        binary = stored.content or {}
        if not binary.get("data"):
            return None, None
        return stored.version_id, LinkageModel.from_json(orjson.loads(base64.b64decode(binary["data"])))

    def model_stamp(self) -> str | None:
        """Which stored model this is, across stores too: its version and when it was written (None: no model)."""
        try:
            stored = self.handle.read("Binary", MODEL_BINARY_ID)
        except (NotFound, Gone):
            return None
        return f"{stored.version_id}@{stored.last_updated}"

    def candidate_keys(self, model: LinkageModel) -> CandidateKeys:
        """The index's own blocking table for this store, keyed as the model blocks (see `candidate_keys`)."""
        return CandidateKeys(default_path(self._system().store_url, self.keys_dir), model.config.prediction_keys)

    def save_model(self, model: LinkageModel) -> None:
        data = orjson.dumps(model.to_json(), option=orjson.OPT_SORT_KEYS)
        binary = {
            "resourceType": "Binary",
            "id": MODEL_BINARY_ID,
            "meta": {"source": INDEX_SOURCE, "tag": [dict(INDEX_TAG)]},
            "contentType": "application/json",
            "data": base64.b64encode(data).decode("ascii"),
        }
        self.write([binary])

    # --- writes --------------------------------------------------------------------------------------------------
    def write(self, resources: Sequence[Resource], if_match: dict[str, int] | None = None) -> None:
        """PUT every resource in one transaction (the caller keeps each bundle to what must change together)."""
        if not resources:
            return
        entries: list[dict[str, Any]] = []
        for resource in resources:
            url = f"{resource['resourceType']}/{resource['id']}"
            request: dict[str, Any] = {"method": "PUT", "url": url}
            if if_match and url in if_match:
                request["ifMatch"] = f'W/"{if_match[url]}"'
            entries.append({"fullUrl": url, "resource": resource, "request": request})
        self.handle.transaction({"resourceType": "Bundle", "type": "transaction", "entry": entries})

    def write_batch(self, resources: Sequence[Resource]) -> None:
        """Many resources in one transaction through the store's set-based batch writer (what `joinedup load`
        uses): validated and indexed exactly as a single write, a new version only where the content changed. For
        the batch linkage, a system job like the loader; everything else writes through `write`. Audited as the
        system's bulk write, naming every resource and person it touched."""
        self._system().bulk_write(resources)


def model_version(model: LinkageModel) -> str:
    """A short, stable name for a trained model: the start of the hash of its saved form."""
    return hashlib.sha256(orjson.dumps(model.to_json(), option=orjson.OPT_SORT_KEYS)).hexdigest()[:12]
