"""OAuth2 client credentials with SMART v2 scopes: the token endpoint, bearer calls through the gate, the
CapabilityStatement and .well-known/smart-configuration, on both databases."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from joinedup.app import create_app
from joinedup.settings import Settings

from ..web import place

SECRET = "a long client secret for tests"


def _register(web: TestClient, client_id: str, role: str, organisation: str | None, scopes: str) -> None:
    web.app.state.services.gate.tokens.register_client(client_id, SECRET, client_id, role, organisation, scopes)  # type: ignore[attr-defined]


def _token(web: TestClient, client_id: str, scope: str) -> dict[str, str]:
    response = web.post(
        "/auth/token", data={"grant_type": "client_credentials", "scope": scope}, auth=(client_id, SECRET)
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return dict(response.json())


def test_smart_is_advertised(web: TestClient) -> None:
    config = web.get("/fhir/.well-known/smart-configuration").json()
    assert config["token_endpoint"].endswith("/auth/token") and "permission-v2" in config["capabilities"]
    security = web.get("/fhir/metadata").json()["rest"][0]["security"]
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    assert security["extension"][0]["extension"][0]["valueUri"].endswith("/auth/token")


def test_system_token_gets_only_the_scopes_it_is_registered_for(web: TestClient) -> None:
    _register(web, "feed-engine", "system", None, "system/Observation.rs system/Patient.r")
    issued = _token(web, "feed-engine", "system/Observation.rs system/Encounter.cruds")
    assert issued["scope"] == "system/Observation.rs" and issued["token_type"] == "Bearer"
    bearer = {"Authorization": f"Bearer {issued['access_token']}"}
    assert web.get("/fhir/Observation?_count=5", headers=bearer).status_code == 200
    assert web.get("/fhir/Encounter", headers=bearer).status_code == 403
    created = web.post("/fhir/Observation", json={"resourceType": "Observation", "status": "final",
                                                  "code": {"text": "x"}}, headers=bearer)  # fmt: skip
    assert created.status_code == 403
    assert web.get("/fhir/Observation", headers={"Authorization": "Bearer forged"}).status_code == 401


def test_wrong_secret_and_unknown_client_look_the_same(web: TestClient) -> None:
    _register(web, "known", "system", None, "system/*.rs")
    form = {"grant_type": "client_credentials", "scope": "system/*.rs"}
    wrong = web.post("/auth/token", data=form, auth=("known", "not the secret"))
    unknown = web.post("/auth/token", data=form, auth=("unknown", SECRET))
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"error": "invalid_client"}


def test_a_gp_practice_client_sees_its_registered_list_only(web: TestClient) -> None:
    _register(web, "practice-app", "gp", f"Organization/{place.PRACTICE.id}", "user/*.rs")
    bearer = {"Authorization": f"Bearer {_token(web, 'practice-app', 'user/*.rs')['access_token']}"}
    found = web.get("/fhir/Patient?_total=accurate&_count=100", headers=bearer).json()
    ids = {e["resource"]["id"] for e in found.get("entry", [])}
    assert ids == {f"pat-{i}" for i in range(12) if i % 4} and found["total"] == len(ids)
    assert web.get("/fhir/Patient/pat-0", headers=bearer).status_code == 404
    entries = web.app.state.services.gate.audit.entries(actions=["search"])  # type: ignore[attr-defined]
    assert entries[-1].user == "Device/practice-app" and sorted(entries[-1].patients) == sorted(ids)


def test_production_answers_401_without_a_token(loaded: str, tmp_path: Path) -> None:
    settings = Settings(database_url=loaded, environment="production", export_dir=tmp_path / "exports")
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        response = client.get("/fhir/Patient")
        assert response.status_code == 401
        assert response.json()["issue"][0]["code"] == "login"
