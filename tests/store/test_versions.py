"""Every version is kept: update and delete add versions, nothing is overwritten or lost."""

from __future__ import annotations

import pytest

from joinedup.fhir.errors import Gone, NotFound, PreconditionFailed
from joinedup.store.context import SYSTEM
from joinedup.store.fhir_store import FhirStore

from ..fixtures import patient


def test_update_and_delete_keep_every_version(store: FhirStore) -> None:
    store.update(SYSTEM, "Patient", "p1", patient("p1", family="Smith"))
    store.update(SYSTEM, "Patient", "p1", patient("p1", family="Smyth"))
    store.delete(SYSTEM, "Patient", "p1")

    with pytest.raises(Gone):
        store.read(SYSTEM, "Patient", "p1")
    first = store.vread(SYSTEM, "Patient", "p1", 1)
    second = store.vread(SYSTEM, "Patient", "p1", 2)
    assert first.content is not None and first.content["name"][0]["family"] == "Smith"
    assert second.content is not None and second.content["name"][0]["family"] == "Smyth"
    with pytest.raises(Gone):
        store.vread(SYSTEM, "Patient", "p1", 3)
    history = store.history(SYSTEM, "Patient", "p1")
    assert [v.version_id for v in history.versions] == [3, 2, 1]
    assert [v.deleted for v in history.versions] == [True, False, False]


def test_identical_update_writes_no_new_version(store: FhirStore) -> None:
    store.update(SYSTEM, "Patient", "p1", patient("p1"))
    outcome = store.update(SYSTEM, "Patient", "p1", patient("p1"))
    assert outcome.written.changed is False
    assert store.read(SYSTEM, "Patient", "p1").version_id == 1


def test_stale_if_match_is_refused_and_changes_nothing(store: FhirStore) -> None:
    store.update(SYSTEM, "Patient", "p1", patient("p1", family="Smith"))
    store.update(SYSTEM, "Patient", "p1", patient("p1", family="Smyth"))
    with pytest.raises(PreconditionFailed):
        store.update(SYSTEM, "Patient", "p1", patient("p1", family="Jones"), if_match=1)
    current = store.read(SYSTEM, "Patient", "p1")
    assert current.version_id == 2 and current.content is not None
    assert current.content["name"][0]["family"] == "Smyth"


def test_meta_records_version_and_source(store: FhirStore) -> None:
    resource = patient("p1")
    resource["meta"] = {"source": "https://joinedup.example/source/gp"}
    store.update(SYSTEM, "Patient", "p1", resource)
    stored = store.read(SYSTEM, "Patient", "p1").content
    assert stored is not None
    assert stored["meta"]["versionId"] == "1"
    assert stored["meta"]["source"] == "https://joinedup.example/source/gp"
    assert stored["meta"]["lastUpdated"].endswith("+00:00")


def test_reading_an_unknown_resource_is_not_found(store: FhirStore) -> None:
    with pytest.raises(NotFound):
        store.read(SYSTEM, "Patient", "nobody")
