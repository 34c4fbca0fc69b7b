"""The operations table (decision 0314) is what routing and the CapabilityStatement read: every operation routed to
its handler, and listed on its types (or the system level) in /fhir/metadata, whose date is the build's."""

from __future__ import annotations

from datetime import date

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from joinedup.api.operations import OPERATIONS
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
            assert routes.get((path, operation.method)) is operation.handler, path


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
    wanted = {
        (t, o.name, o.definition) for o in OPERATIONS for t in (o.resource_types or (None,))
    }
    assert listed == wanted


def test_the_capability_statement_is_dated_by_the_build(client: TestClient) -> None:
    stated = client.get("/fhir/metadata").json()["date"]
    assert stated == build_date()
    assert date.fromisoformat(stated) <= date.today()
