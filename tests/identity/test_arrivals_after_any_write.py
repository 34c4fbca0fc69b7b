"""The person index places a Patient whichever path wrote it (decision 0314): the gate runs the after-write hooks
the person index registered for every write, including each entry of a transaction or batch Bundle. A hook that
fails never undoes the write, and its log line names no person."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from joinedup.app import create_app
from joinedup.identity.index_store import PURPOSE, IndexStore
from joinedup.identity.install import HOOK_NAME
from joinedup.identity.model import LinkageModel
from joinedup.settings import Settings

from ..conftest import system_bearer
from .people import Person, moved_address, patient
from .store_place import sourced


@pytest.fixture
def api(settings: Settings, model: LinkageModel) -> Iterator[TestClient]:
    tuned = settings.model_copy(update={"identity_link_threshold": 0.99})
    with TestClient(create_app(tuned), base_url="http://127.0.0.1:8000") as client:
        IndexStore(client.app.state.services.gate.for_system(PURPOSE)).save_model(model)  # type: ignore[attr-defined]
        client.headers.update(system_bearer(client))
        yield client


def _index(client: TestClient) -> IndexStore:
    return IndexStore(client.app.state.services.gate.for_system(PURPOSE))  # type: ignore[attr-defined]


def _bundle(kind: str, *resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [
            {"resource": r, "request": {"method": "PUT", "url": f"Patient/{r['id']}"}} for r in resources
        ],
    }


def test_the_hook_is_registered_by_the_person_index(api: TestClient) -> None:
    registered = api.app.state.services.gate.after_write.registered()  # type: ignore[attr-defined]
    assert registered["Patient"] == [HOOK_NAME]


def test_a_patient_posted_inside_a_transaction_bundle_is_placed(api: TestClient, people: list[Person]) -> None:
    same_nhs = people[0]
    api.put("/fhir/Patient/g-det", json=sourced("gp", patient(same_nhs, "g-det", nhs=same_nhs.nhs,
                                                               address=moved_address(same_nhs))))  # fmt: skip
    arriving = sourced("acute", patient(same_nhs, "a-det", nhs=same_nhs.nhs, family="Other-Name"))
    response = api.post("/fhir", json=_bundle("transaction", arriving))
    assert response.status_code == 200, response.text

    person = _index(api).person_of("a-det")
    assert person is not None
    assert set(person.links) == {"g-det", "a-det"}


def test_each_patient_of_a_batch_bundle_is_placed(api: TestClient, people: list[Person]) -> None:
    first, second = people[1], people[2]
    bundle = _bundle(
        "batch",
        sourced("gp", patient(first, "g-one", nhs=first.nhs)),
        sourced("gp", patient(second, "g-two", nhs=second.nhs)),
    )
    response = api.post("/fhir", json=bundle)
    assert response.status_code == 200, response.text
    index = _index(api)
    placed = {pid: index.person_of(pid) for pid in ("g-one", "g-two")}
    assert all(p is not None for p in placed.values())
    assert placed["g-one"] != placed["g-two"]


def test_a_failing_hook_keeps_the_write_and_logs_no_identifiers(
    api: TestClient, people: list[Person], caplog: pytest.LogCaptureFixture
) -> None:
    who = people[3]

    def refuses(resource: dict[str, Any]) -> None:
        raise RuntimeError(f"cannot place {resource['id']} {who.family} {who.nhs}")

    api.app.state.services.gate.after_write.register("Patient", "refuses", refuses)  # type: ignore[attr-defined]
    with caplog.at_level(logging.WARNING):
        response = api.post("/fhir", json=_bundle("transaction", sourced("gp", patient(who, "g-refused", nhs=who.nhs))))
    assert response.status_code == 200, response.text
    assert api.get("/fhir/Patient/g-refused").status_code == 200
    assert _index(api).person_of("g-refused") is not None  # the other hook still ran
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "after-write hook refuses failed (RuntimeError)" in logged
    for identifier in ("g-refused", who.family, str(who.nhs)):
        assert identifier not in logged
