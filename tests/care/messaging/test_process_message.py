"""BaRS messages at POST /fhir/$process-message (decision 0502), on both databases, with the standard's own example
messages as the test cases (../shared/data/bars/specification/examples/process_message/; skipped with the reason
when ../shared is absent). The examples' data is corrected only where the decision is to refuse it: their NHS
number fails the Modulo 11 check, so the accepted cases carry the NHS number of a person the test place holds.

Refusals as an attacker would try them: no token, another role, malformed bundles, an unknown service, a message
sent twice, an update the referral's state does not allow, and a failure half-way through the write (nothing
written). The receiving team then sees the referral, and the person, through its own relationship.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from joinedup.fhir.nhs_number import NHS_NUMBER_SYSTEM
from joinedup.store.engine import make_engine
from joinedup.store.fhir_store import FhirStore

from ...conftest import shared_path
from ...web import place

Resource = dict[str, Any]
EXAMPLES = ("data", "bars", "specification", "examples")
VALIDATION_REQUEST = ("process_message", "request", "ValidationRequest (POST) .json")
VALIDATION_RESPONSE = ("process_message", "request", "ValidationResponse (POST) .json")
BOOKING_REQUEST = ("process_message", "request", "Booking (POST).json")
HTTP_ERROR_CODES = "https://fhir.nhs.uk/Codesystem/http-error-codes"
BARS_MESSAGE = "https://joinedup.example/fhir/Id/bars-message"
DOS = "http://fhir.nhs.uk/Id/dos-service-id"
SERVICE_ID = "svc-dos-111111111"
PERSON = place.person(1)  # the person the corrected examples refer


def example(*parts: str) -> Resource:
    found: Resource = json.loads(shared_path(*EXAMPLES, *parts).read_text(encoding="utf-8"))
    return found


def dos_service() -> Resource:
    """The receiving service of the examples (DoS id 111111111): the acute trust's, which has no relationship
    with the test place's people until a referral gives it one."""
    return {
        "resourceType": "HealthcareService",
        "id": SERVICE_ID,
        "meta": place.meta(place.PLACE),
        "active": True,
        "identifier": [{"system": DOS, "value": "111111111"}],
        "providedBy": place.ACUTE.ref,
        "name": "Saltmoor same day emergency care",
    }


def corrected(bundle: Resource, nhs_number: str = PERSON.nhs_number) -> Resource:
    """The example with the one correction the decision needs: a valid NHS number, of a person held here."""
    fixed = copy.deepcopy(bundle)
    for entry in fixed["entry"]:
        if entry["resource"]["resourceType"] == "Patient":
            for identifier in entry["resource"]["identifier"]:
                if identifier["system"] == NHS_NUMBER_SYSTEM:
                    identifier["value"] = nhs_number
    return fixed


def resent(bundle: Resource, **focus: Any) -> Resource:
    """The same referral in a new message (a new Bundle id), its ServiceRequest changed as given."""
    again = copy.deepcopy(bundle)
    again["id"] = str(uuid.uuid4())
    header = again["entry"][0]["resource"]
    if "reason" in focus:
        header["reason"]["coding"][0]["code"] = focus.pop("reason")
    request = next(e["resource"] for e in again["entry"] if e["fullUrl"] == header["focus"][0]["reference"])
    request.update(focus)
    return again


@pytest.fixture
def receiving(database_url: str) -> str:
    store = FhirStore(make_engine(database_url))
    place.load(store, [*place.place(people=3, entries=3), dos_service()])
    store.engine.dispose()
    return database_url


@pytest.fixture
def api(receiving: str, client: TestClient) -> Iterator[TestClient]:
    """The system client (an integration's bearer token) on the place with the receiving service."""
    yield client


def token(client: TestClient, role: str, organisation: str | None = None) -> dict[str, str]:
    tokens = client.app.state.services.gate.tokens  # type: ignore[attr-defined]
    name = f"bars-{role}-{uuid.uuid4().hex[:6]}"
    tokens.register_client(name, "a-long-test-secret", role, role, organisation, "system/*.*")
    issued = tokens.client_credentials(name, "a-long-test-secret", "system/*.*", None)
    assert issued is not None
    return {"Authorization": f"Bearer {issued.access_token}"}


def post(client: TestClient, bundle: Resource, headers: dict[str, str] | None = None) -> Any:
    return client.post("/fhir/$process-message", json=bundle, headers=headers or {})


def referrals(client: TestClient) -> list[Resource]:
    found = client.get("/fhir/ServiceRequest", params={"performer": f"HealthcareService/{SERVICE_ID}", "_count": "100"})
    assert found.status_code == 200, found.text
    return [e["resource"] for e in found.json().get("entry", [])]


def tasks(client: TestClient) -> list[Resource]:
    found = client.get("/fhir/Task", params={"owner": f"HealthcareService/{SERVICE_ID}", "_count": "100"})
    assert found.status_code == 200, found.text
    return [e["resource"] for e in found.json().get("entry", [])]


def refused(response: Any, status: int, code: str, bars: str, location: str | None = None) -> None:
    """The OperationOutcome as the standard's examples show it: the status, the issue code, the BaRS code."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    (issue,) = body["issue"]
    assert issue["severity"] == "error" and issue["code"] == code, issue
    assert issue["details"]["coding"] == [{"system": HTTP_ERROR_CODES, "code": bars}]
    if location is not None:
        assert issue["expression"] == [location]


# --- accepted -----------------------------------------------------------------------------------------------------
def test_the_validation_request_example_makes_a_referral_for_the_service_and_answers_with_a_response(
    api: TestClient,
) -> None:
    message = corrected(example(*VALIDATION_REQUEST))
    response = post(api, message)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["resourceType"] == "Bundle" and answer["type"] == "message"
    header = answer["entry"][0]["resource"]
    assert header["eventCoding"] == {"system": "https://fhir.nhs.uk/CodeSystem/message-events-bars",
                                     "code": "servicerequest-response"}  # fmt: skip
    assert header["response"] == {"identifier": message["id"], "code": "ok"}
    assert header["destination"][0]["endpoint"] == "http://fhir.nhs.uk/Id/dos-service-id|2222222222"
    (request,) = referrals(api)
    (task,) = tasks(api)
    assert header["focus"][0]["reference"].endswith(f"/ServiceRequest/{request['id']}")
    assert request["status"] == "active" and request["intent"] == "order"
    assert request["subject"]["reference"] == f"Patient/{PERSON.patient_id}"
    assert request["performer"] == [{"reference": f"HealthcareService/{SERVICE_ID}"}]
    # The sender is shown to the receiver as the message names it (the sender's ODS code, its name kept).
    sender = {"type": "Organization", "display": "Sender Organization",
              "identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RND"}}  # fmt: skip
    assert request["requester"] == sender and task["requester"] == sender
    assert {"system": BARS_MESSAGE, "value": message["id"]} in request["identifier"]
    assert "Emergency Ambulance Response (Category 3)" in request["reasonCode"][0]["text"]
    assert "CONSULTATION SUMMARY" in request["note"][0]["text"]
    assert task["status"] == "requested" and task["focus"]["reference"] == f"ServiceRequest/{request['id']}"
    assert task["owner"] == {"reference": f"HealthcareService/{SERVICE_ID}"}
    assert task["for"] == {"reference": f"Patient/{PERSON.patient_id}"}


def test_the_sender_in_our_directory_is_referenced_with_the_name_the_message_gives(api: TestClient) -> None:
    ours = {"resourceType": "Organization", "name": "Riverbank Ambulance Service NHS Trust",
            "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RND"}]}  # fmt: skip
    made = api.post("/fhir/Organization", json=ours)
    assert made.status_code == 201, made.text
    assert post(api, corrected(example(*VALIDATION_REQUEST))).status_code == 200
    (request,) = referrals(api)
    assert request["requester"] == {"reference": f"Organization/{made.json()['id']}", "display": "Sender Organization"}


def test_the_senders_episode_of_care_is_theirs_not_followed_and_not_written(api: TestClient) -> None:
    """The example's Encounter names `EpisodeOfCare/d877…`, a record of the sender's the receiver does not hold: the
    message is accepted, nothing here points at it and no stand-in is made for it."""
    message = corrected(example(*VALIDATION_REQUEST))
    assert post(api, message).status_code == 200
    (request,) = referrals(api)
    (task,) = tasks(api)
    assert "EpisodeOfCare" not in json.dumps([request, task])
    assert api.get("/fhir/EpisodeOfCare/d877b820-e72b-44d1-a627-195f54bfc606").status_code == 404
    assert (
        api.get("/fhir/Encounter", params={"identifier": "https://sender.url/Id/case-number|sender1234"})
        .json()
        .get("entry", [])
        == []
    )


def test_the_receiving_team_sees_the_referral_and_the_person_through_its_own_relationship(api: TestClient) -> None:
    nurse = token(api, "hospital-doctor", f"Organization/{place.ACUTE.id}")
    assert api.get(f"/fhir/Patient/{PERSON.patient_id}", headers=nurse).status_code == 404  # no relationship yet
    message = corrected(example(*VALIDATION_REQUEST))
    assert post(api, message).status_code == 200
    (request,) = referrals(api)
    assert api.get(f"/fhir/ServiceRequest/{request['id']}", headers=nurse).status_code == 200
    assert api.get(f"/fhir/Patient/{PERSON.patient_id}", headers=nurse).status_code == 200
    other = token(api, "nurse", f"Organization/{place.MENTAL_HEALTH.id}")  # not the receiving team's organisation
    assert api.get(f"/fhir/Patient/{PERSON.patient_id}", headers=other).status_code == 404
    # The sender cancels: the referral closes, and with it the team's relationship with the person.
    cancel = resent(message, reason="update", status="revoked")
    assert post(api, cancel).status_code == 200
    assert api.get(f"/fhir/Patient/{PERSON.patient_id}", headers=nurse).status_code == 404


def test_the_request_and_correlation_ids_are_mirrored_back_on_answers_and_refusals(api: TestClient) -> None:
    ids = {"X-Request-Id": str(uuid.uuid4()), "X-Correlation-Id": str(uuid.uuid4())}
    for message, status in ((corrected(example(*VALIDATION_REQUEST)), 200), (example(*VALIDATION_REQUEST), 400)):
        response = post(api, message, ids)
        assert response.status_code == status, response.text
        assert {name: response.headers.get(name) for name in ids} == ids


# --- the examples' data the decision refuses ----------------------------------------------------------------------
def test_the_examples_nhs_number_fails_its_check_digit_and_is_refused_with_nothing_written(api: TestClient) -> None:
    response = post(api, example(*VALIDATION_REQUEST))  # as published: 3478526985 fails Modulo 11
    refused(response, 400, "value", "REC_BAD_REQUEST", "Patient.identifier")
    assert referrals(api) == [] and tasks(api) == []


def test_a_person_not_held_here_is_refused_not_created(api: TestClient) -> None:
    response = post(api, corrected(example(*VALIDATION_REQUEST), nhs_number="9476719931"))  # valid, nobody here
    refused(response, 404, "not-found", "REC_NOT_FOUND", "Patient.identifier")
    assert referrals(api) == []
    found = api.get("/fhir/Patient", params={"identifier": f"{NHS_NUMBER_SYSTEM}|9476719931"}).json()
    assert found.get("entry", []) == []


def test_the_booking_example_is_not_implemented_here(api: TestClient) -> None:
    refused(
        post(api, example(*BOOKING_REQUEST)), 501, "not-supported", "REC_NOT_IMPLEMENTED", "MessageHeader.eventCoding"
    )
    assert referrals(api) == []


def test_a_response_message_answers_nothing_sent_from_here(api: TestClient) -> None:
    refused(post(api, example(*VALIDATION_RESPONSE)), 404, "not-found", "REC_NOT_FOUND", "MessageHeader.response")
    assert referrals(api) == []


def test_a_message_for_a_service_the_platform_does_not_have_is_refused(api: TestClient) -> None:
    message = corrected(example(*VALIDATION_REQUEST))
    message["entry"][0]["resource"]["destination"][0]["endpoint"] = f"{DOS}|999999999"
    response = post(api, message)
    refused(response, 404, "not-found", "REC_NOT_FOUND", "MessageHeader.destination[0].endpoint")
    assert referrals(api) == [] and tasks(api) == []


# --- resending, cancelling, re-referring --------------------------------------------------------------------------
def test_the_same_message_twice_creates_nothing_new(api: TestClient) -> None:
    message = corrected(example(*VALIDATION_REQUEST))
    assert post(api, message).status_code == 200
    before = (referrals(api), tasks(api))
    again = post(api, message)
    refused(again, 409, "duplicate", "REC_CONFLICT", "Bundle.id")
    assert (referrals(api), tasks(api)) == before


def test_a_cancelling_update_revokes_an_active_referral_and_only_an_active_one(api: TestClient) -> None:
    message = corrected(example(*VALIDATION_REQUEST))
    assert post(api, message).status_code == 200
    cancel = resent(message, reason="update", status="revoked")
    response = post(api, cancel)
    assert response.status_code == 200, response.text
    (request,) = referrals(api)
    (task,) = tasks(api)
    assert request["status"] == "revoked" and task["status"] == "cancelled"
    assert any(c["code"] == "cancelled" for c in task["businessStatus"]["coding"])
    refused(post(api, cancel), 409, "duplicate", "REC_CONFLICT")  # the same cancel again
    again = post(api, resent(message, reason="update", status="revoked"))  # a new cancel of a revoked referral
    refused(again, 409, "conflict", "REC_CONFLICT", "ServiceRequest.status")
    assert [r["meta"]["versionId"] for r in referrals(api)] == [request["meta"]["versionId"]]


def test_a_re_referral_revokes_the_open_referral_first_in_the_same_transaction(api: TestClient) -> None:
    message = corrected(example(*VALIDATION_REQUEST))
    assert post(api, message).status_code == 200
    (first,) = referrals(api)
    response = post(api, resent(message, reason="update", status="active", priority="urgent"))
    assert response.status_code == 200, response.text
    by_id = {r["id"]: r for r in referrals(api)}
    assert by_id.pop(first["id"])["status"] == "revoked"
    (second,) = by_id.values()
    assert second["status"] == "active" and second["priority"] == "urgent"
    states = sorted(t["status"] for t in tasks(api))
    assert states == ["cancelled", "requested"]


def test_the_same_service_request_in_a_new_message_is_a_re_referral(api: TestClient) -> None:
    message = corrected(example(*VALIDATION_REQUEST))
    assert post(api, message).status_code == 200
    assert post(api, resent(message)).status_code == 200  # reason new, the sender's same ServiceRequest
    assert sorted(r["status"] for r in referrals(api)) == ["active", "revoked"]
    assert sorted(t["status"] for t in tasks(api)) == ["cancelled", "requested"]


def test_a_referral_that_replaces_another_revokes_it(api: TestClient) -> None:
    first = corrected(example(*VALIDATION_REQUEST))
    assert post(api, first).status_code == 200
    second = resent(first, replaces=[{"reference": "ServiceRequest/236bb75d-90ef-461f-b71e-fde7f899802c"}])
    focus = second["entry"][0]["resource"]["focus"][0]
    for entry in second["entry"]:  # a ServiceRequest of its own, replacing the first
        if entry["fullUrl"] == focus["reference"]:
            entry["fullUrl"] = focus["reference"] = f"urn:uuid:{uuid.uuid4()}"
    assert post(api, second).status_code == 200
    assert sorted(r["status"] for r in referrals(api)) == ["active", "revoked"]


def test_an_update_for_a_referral_not_held_here_is_refused(api: TestClient) -> None:
    cancel = resent(corrected(example(*VALIDATION_REQUEST)), reason="update", status="revoked")
    refused(post(api, cancel), 404, "not-found", "REC_NOT_FOUND", "MessageHeader.focus[0]")
    update = resent(corrected(example(*VALIDATION_REQUEST)), reason="update", status="completed")
    refused(post(api, update), 400, "invariant", "REC_BAD_REQUEST", "ServiceRequest.status")


# --- malformed messages: 400 with where ---------------------------------------------------------------------------
def _without_header(bundle: Resource) -> Resource:
    bundle["entry"] = bundle["entry"][1:]
    return bundle


def _header(bundle: Resource, **changes: Any) -> Resource:
    header = bundle["entry"][0]["resource"]
    for key, value in changes.items():
        if value is None:
            header.pop(key, None)
        else:
            header[key] = value
    return bundle


def _focus_gone(bundle: Resource) -> Resource:
    return _header(bundle, focus=[{"reference": "urn:uuid:00000000-0000-0000-0000-000000000000"}])


MALFORMED = {
    "not a Bundle": (lambda b: {"resourceType": "Parameters"}, "structure", "Bundle.resourceType"),
    "not a message": (lambda b: {**b, "type": "transaction"}, "invalid", "Bundle.type"),
    "no MessageHeader first": (_without_header, "invalid", "Bundle.entry[0].resource"),
    "no event": (lambda b: _header(b, eventCoding=None), "required", "MessageHeader.eventCoding"),
    "an event from another system": (
        lambda b: _header(b, eventCoding={"system": "https://example.org/events", "code": "servicerequest-request"}),
        "value", "MessageHeader.eventCoding",
    ),
    "no reason": (lambda b: _header(b, reason=None), "required", "MessageHeader.reason"),
    "a reason not in message-reason-bars": (
        lambda b: _header(b, reason={"coding": [{"system": "https://fhir.nhs.uk/CodeSystem/message-reason-bars",
                                                  "code": "maybe"}]}),
        "value", "MessageHeader.reason",
    ),
    "no focus": (lambda b: _header(b, focus=None), "required", "MessageHeader.focus"),
    "a focus not in the Bundle": (_focus_gone, "invalid", "MessageHeader.focus[0]"),
    "no destination": (lambda b: _header(b, destination=None), "required", "MessageHeader.destination[0].endpoint"),
    "a destination not system|value": (
        lambda b: _header(b, destination=[{"endpoint": "111111111"}]), "value", "MessageHeader.destination[0].endpoint",
    ),
    "no sender": (lambda b: _header(b, sender=None), "invalid", "MessageHeader.sender"),
    "no id": (lambda b: {k: v for k, v in b.items() if k != "id"}, "required", "Bundle.id"),
}  # fmt: skip


@pytest.mark.parametrize("broken", sorted(MALFORMED))
def test_a_malformed_message_is_refused_with_where_and_nothing_written(api: TestClient, broken: str) -> None:
    change, code, location = MALFORMED[broken]
    response = post(api, change(corrected(example(*VALIDATION_REQUEST))))
    refused(response, 400, code, "REC_BAD_REQUEST", location)
    assert referrals(api) == []


def test_a_body_that_is_not_json_is_refused_as_a_bad_request(api: TestClient) -> None:
    response = api.post(
        "/fhir/$process-message", content=b"{not json", headers={"content-type": "application/fhir+json"}
    )
    refused(response, 400, "structure", "REC_BAD_REQUEST")


# --- who may send -------------------------------------------------------------------------------------------------
def test_without_a_token_the_message_is_refused_401(receiving: str, anonymous_client: TestClient) -> None:
    response = anonymous_client.post("/fhir/$process-message", json=corrected(example(*VALIDATION_REQUEST)))
    assert response.status_code == 401, response.text
    assert response.json()["resourceType"] == "OperationOutcome"


def test_a_role_without_message_process_is_refused_403_and_nothing_is_written(api: TestClient) -> None:
    for role in ("gp", "nurse", "spa-triage", "administrator"):
        response = post(
            api, corrected(example(*VALIDATION_REQUEST)), token(api, role, f"Organization/{place.PRACTICE.id}")
        )
        assert response.status_code == 403, response.text
        assert response.json()["resourceType"] == "OperationOutcome"
    assert referrals(api) == []


# --- nothing half-written -----------------------------------------------------------------------------------------
def _refuse_task_inserts(database_url: str) -> None:
    """A database that fails the second write of the transaction (the Task, after its ServiceRequest): a real
    failure inside the store, as a full disk or a lost connection would be, not a stand-in for our code."""
    engine = make_engine(database_url)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("CREATE TRIGGER refuse_tasks BEFORE INSERT ON resources WHEN NEW.resource_type = 'Task' "
                              "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"))  # fmt: skip
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse_tasks() RETURNS trigger AS $$ BEGIN IF NEW.resource_type = 'Task' "
                    "THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(text("CREATE TRIGGER refuse_tasks BEFORE INSERT ON resources FOR EACH ROW "
                              "EXECUTE FUNCTION refuse_tasks()"))  # fmt: skip
    engine.dispose()


def test_a_failure_half_way_through_writes_nothing(api: TestClient, receiving: str) -> None:
    _refuse_task_inserts(receiving)
    message = corrected(example(*VALIDATION_REQUEST))
    response = post(api, message)
    refused(response, 500, "exception", "REC_SERVER_ERROR")
    assert referrals(api) == [] and tasks(api) == []
    marked = api.get("/fhir/ServiceRequest", params={"identifier": f"{BARS_MESSAGE}|{message['id']}"}).json()
    assert marked.get("entry", []) == []
