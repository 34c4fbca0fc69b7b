"""The referral steps over the FHIR API: `POST /fhir/Task/{id}/$referral-<step>` with Parameters, as the users the
SMART launch would issue tokens to, on both databases. Bad input, a stale version, a step the state does not allow
and a caller who is not the team answer an OperationOutcome with where the problem is, and change nothing."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from joinedup.access.audit.trail import now_micros
from joinedup.access.context import AccessContext
from joinedup.access.gate import AccessGate
from joinedup.care.referrals.operations import OPERATIONS
from joinedup.care.referrals.service import read_referral
from joinedup.store.fhir_store import FhirStore
from joinedup.store.governance_schema import oauth_tokens

from ...web import place
from .conftest import GP, MANAGER, NURSE, SOCIAL_WORKER, refer

FHIR_JSON = {"content-type": "application/fhir+json"}


@pytest.fixture
def api(store: FhirStore, client: TestClient) -> TestClient:
    place.load(store, place.place(people=4, entries=2))
    return client


def bearer(store: FhirStore, who: AccessContext) -> dict[str, str]:
    """A user token, as the SMART launch issues it (written to the token table, as the access matrix does)."""
    token = uuid.uuid4().hex
    with store.engine.begin() as conn:
        conn.execute(insert(oauth_tokens).values(
            token_hash=hashlib.sha256(token.encode()).hexdigest(), kind="access", client_id="referral-tests",
            user_ref=who.user, role=who.role, organisation=who.organisation, scopes="user/*.cruds",
            expires=now_micros() + 3600 * 1_000_000, detail=None))  # fmt: skip
    return {"Authorization": f"Bearer {token}", **FHIR_JSON}


def parameters(**values: Any) -> dict[str, Any]:
    kinds = {"version": "valueInteger", "note": "valueString", "reason": "valueCode", "when": "valueDateTime"}
    found = []
    for name, value in values.items():
        if name in {"service", "worker"}:
            found.append({"name": name, "valueReference": {"reference": value}})
        else:
            found.append({"name": name, kinds[name]: value})
    return {"resourceType": "Parameters", "parameter": found}


def step(api: TestClient, store: FhirStore, who: AccessContext, task_id: str, name: str, **values: Any) -> Any:
    return api.post(f"/fhir/Task/{task_id}/$referral-{name}", json=parameters(**values), headers=bearer(store, who))


def _issue(response: Any) -> dict[str, Any]:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome", body
    issue: dict[str, Any] = body["issue"][0]
    return issue


def test_every_step_is_declared_once_with_its_capability() -> None:
    names = [o.name for o in OPERATIONS]
    assert len(names) == len(set(names)) == 10
    by_name = {o.name: o for o in OPERATIONS}
    assert by_name["referral-cancel"].capability is not None
    assert str(by_name["referral-cancel"].capability) == "referral.send"
    assert str(by_name["referral-accept"].capability) == "referral.receive"
    assert all(o.paths == (f"/fhir/Task/{{task_id}}/${o.name}",) for o in OPERATIONS)


def test_the_flow_over_the_api(api: TestClient, store: FhirStore) -> None:
    gate = AccessGate(store)
    referral = refer(gate)
    tid = referral.task_id
    accepted = step(api, store, NURSE, tid, "accept", version=1, note="Visiting Thursday")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted" and accepted.headers["etag"] == 'W/"2"'
    allocated = step(api, store, MANAGER, tid, "allocate", version=2, worker=NURSE.user)
    assert allocated.json()["owner"]["reference"] == NURSE.user
    contact = api.post(f"/fhir/Task/{tid}/$referral-first-contact", json=parameters(note="Seen at home"),
                       headers={**bearer(store, NURSE), "If-Match": 'W/"3"'})  # fmt: skip
    assert contact.status_code == 200 and contact.json()["status"] == "in-progress"
    done = step(api, store, NURSE, tid, "complete", version=4, note="Healed")
    assert done.json()["status"] == "completed" and done.json()["output"][0]["valueString"] == "Healed"
    request = read_referral(gate.for_system("test"), tid).request
    assert request["status"] == "completed"


def test_refusals_answer_an_operation_outcome_and_change_nothing(api: TestClient, store: FhirStore) -> None:
    gate = AccessGate(store)
    referral = refer(gate)
    tid = referral.task_id
    cases = [
        (step(api, store, SOCIAL_WORKER, tid, "accept", version=1), 403, None),  # another team
        (step(api, store, NURSE, tid, "cancel", version=1), 403, None),  # not the sender
        (step(api, store, NURSE, tid, "accept", version=7), 409, None),  # stale
        (step(api, store, NURSE, tid, "allocate", version=1, worker=NURSE.user), 409, None),  # not accepted yet
        (step(api, store, NURSE, tid, "decline", version=1), 400, "Parameters.parameter"),  # no reason
        (step(api, store, NURSE, tid, "decline", version=1, reason="whim"), 400, "reason"),
        (step(api, store, NURSE, tid, "redirect", version=1, service="HealthcareService/none"), 400, "service"),
        (step(api, store, NURSE, tid, "accept"), 400, "Parameters.parameter"),  # no version
        (step(api, store, NURSE, tid, "accept", version=1, worker=NURSE.user), 400, "Parameters.parameter[1]"),
        (step(api, store, NURSE, tid, "first-contact", version=1, when="yesterday"), 400, None),
        (step(api, store, NURSE, "no-such-task", "accept", version=1), 404, None),
    ]
    for response, status, location in cases:
        assert response.status_code == status, response.text
        issue = _issue(response)
        if location is not None:
            assert issue.get("expression") == [location], issue
    wrong_body = api.post(f"/fhir/Task/{tid}/$referral-accept", json={"resourceType": "Patient"},
                          headers=bearer(store, NURSE))  # fmt: skip
    assert wrong_body.status_code == 400 and _issue(wrong_body)["expression"] == ["resourceType"]
    assert read_referral(gate.for_system("test"), tid).version == 1, "a refused step changed the referral"


def test_a_role_without_the_capability_is_refused_before_anything_is_looked_up(
    api: TestClient, store: FhirStore
) -> None:
    analyst = AccessContext(user="PractitionerRole/role-zq01-9", role="analyst", organisation="Organization/org-zq01")
    response = step(api, store, analyst, "anything", "accept", version=1)
    assert response.status_code == 403 and _issue(response)["code"] == "forbidden"


def test_the_sender_cancels_over_the_api(api: TestClient, store: FhirStore) -> None:
    referral = refer(AccessGate(store))
    response = step(api, store, GP, referral.task_id, "cancel", version=1, note="Admitted")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
