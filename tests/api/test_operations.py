"""The operations table (decision 0314) is what routing and the CapabilityStatement read: every operation routed to
its handler, and listed on its types (or the system level) in /fhir/metadata, whose date is the build's."""

from __future__ import annotations

from datetime import date

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from joinedup.api.operations import OPERATIONS, all_operations
from joinedup.build import build_date
from joinedup.identity.permissions import PERSON_INDEX_LINK


def test_every_operation_is_routed_to_its_handler(client: TestClient) -> None:
    routes = {
        (route.path, method): route.endpoint
        for route in client.app.routes  # type: ignore[attr-defined]
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    for operation in OPERATIONS:
        for path in operation.paths:
            routed = routes.get((path, operation.method))
            assert getattr(routed, "__wrapped__", routed) is operation.handler, path


def test_the_person_index_operations_are_in_the_table_and_need_their_capability() -> None:
    named = {(o.name, t): o for o in OPERATIONS for t in o.resource_types}
    for key in (("accept-link", "Task"), ("reject-link", "Task"), ("merge", "Person"), ("unmerge", "Person")):
        assert named[key].capability == PERSON_INDEX_LINK
        assert named[key].method == "POST" and named[key].level == "instance"
    assert ("everything", "Patient") in named and ("export", "Group") in named
    assert any(o.name == "export" and o.level == "system" for o in OPERATIONS)


def test_the_capability_statement_lists_every_operation_from_the_table(client: TestClient) -> None:
    statement = client.get("/fhir/metadata").json()
    rest = statement["rest"][0]
    listed = {(r["type"], o["name"], o["definition"]) for r in rest["resource"] for o in r.get("operation", [])}
    listed |= {(None, o["name"], o["definition"]) for o in rest["operation"]}
    wanted = {(t, o.name, o.definition) for o in all_operations() for t in (o.resource_types or (None,))}
    assert listed == wanted


def test_the_capability_statement_is_dated_by_the_build(client: TestClient) -> None:
    stated = client.get("/fhir/metadata").json()["date"]
    assert stated == build_date()
    assert date.fromisoformat(stated) <= date.today()


def _token(client: TestClient, role: str) -> dict[str, str]:
    tokens = client.app.state.services.gate.tokens  # type: ignore[attr-defined]
    tokens.register_client(f"ops-{role}", "a-long-test-secret", role, role, "Organization/none", "system/*.*")
    issued = tokens.client_credentials(f"ops-{role}", "a-long-test-secret", "system/*.*", None)
    assert issued is not None
    return {"Authorization": f"Bearer {issued.access_token}"}


def test_an_operation_needing_a_capability_refuses_a_role_without_it_before_looking_anything_up(
    client: TestClient,
) -> None:
    """Care home staff may not merge (person-index.link, from the table): 403 whatever the ids; a role holding it
    gets as far as the lookup (404 for a Person that does not exist)."""
    body = {"resourceType": "Parameters", "parameter": [{"name": "other", "valueReference": {"reference": "Person/b"}}]}
    refused = client.post("/fhir/Person/a/$merge", json=body, headers=_token(client, "care-home-staff"))
    assert refused.status_code == 403, refused.text
    assert refused.json()["resourceType"] == "OperationOutcome"
    link_worker = _token(client, "link-worker")
    for name in ("accept-link", "reject-link"):
        assert client.post(f"/fhir/Task/t/${name}", headers=link_worker).status_code == 403
    allowed = client.post("/fhir/Person/a/$merge", json=body, headers=_token(client, "system"))
    assert allowed.status_code == 404, allowed.text
