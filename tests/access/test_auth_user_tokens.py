"""Tokens for users: SMART v2 standalone launch (authorisation code + PKCE at /auth/authorize, exchanged at
/auth/token). The token acts as the user through the gate, narrowed by the scopes they approved; codes are spent
once, expire, and belong to one client and one redirect URI. Through the real app on both databases."""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from joinedup.access.accounts.tokens import pkce_challenge
from joinedup.access.context import AccessContext
from joinedup.store.governance_schema import oauth_tokens

from ..web import place

PASSWORD = "correct horse battery staple"
APP = "https://app.example/callback"
SECRET = "a confidential app's secret"
GP_SEES = {f"pat-{i}" for i in range(12) if i % 4}  # registered at Riverside
ADMIN = AccessContext(user="PractitionerRole/admin", role="administrator")


def _gate(web: TestClient) -> Any:
    return web.app.state.services.gate  # type: ignore[attr-defined]


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return found.group(1)


@pytest.fixture
def app_web(web: TestClient) -> TestClient:
    """A GP's local account at Riverside, signed in; a public app and a confidential app registered for users."""
    gate = _gate(web)
    gate.accounts.create(
        "dr.gp", PASSWORD, "Dr Test", f"PractitionerRole/role-{place.PRACTICE.code.lower()}-1", "gp",
        f"Organization/{place.PRACTICE.id}", place.PRACTICE.name,
    )  # fmt: skip
    gate.tokens.register_client("viewer", None, "Results viewer", "gp", None, "user/*.rs", (APP,))
    gate.tokens.register_client("desk", SECRET, "Desk app", "gp", None, "user/*.cruds", (APP,))
    form = {"username": "dr.gp", "password": PASSWORD, "csrf": _csrf(web.get("/sign-in").text), "next": "/"}
    assert web.post("/sign-in", data=form, follow_redirects=False).status_code == 303
    return web


def _authorize_query(client_id: str, scope: str, verifier: str, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code", "client_id": client_id, "redirect_uri": APP, "scope": scope, "state": "s-123",
        "aud": "http://127.0.0.1:8000/fhir", "code_challenge": pkce_challenge(verifier),
        "code_challenge_method": "S256", **extra,
    }  # fmt: skip


def _approve(web: TestClient, client_id: str, scope: str, verifier: str) -> str:
    """The user's part: the consent page, then Allow; the code the app gets back."""
    query = _authorize_query(client_id, scope, verifier)
    page = web.get(f"/auth/authorize?{urlencode(query)}")
    assert page.status_code == 200, page.text
    assert "form-action 'self' https://app.example" in page.headers["content-security-policy"]
    answer = web.post("/auth/authorize", data={**query, "decision": "approve", "csrf": _csrf(page.text)},
                      follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303 and answer.headers["location"].startswith(f"{APP}?")
    back = parse_qs(urlsplit(answer.headers["location"]).query)
    assert back["state"] == ["s-123"]
    return back["code"][0]


def _exchange(web: TestClient, code: str, verifier: str, client_id: str = "viewer", **extra: Any) -> Any:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": APP, "code_verifier": verifier,
            "client_id": client_id, **extra}  # fmt: skip
    return web.post("/auth/token", data=form)


def _token(web: TestClient, scope: str) -> dict[str, str]:
    verifier = secrets.token_urlsafe(48)
    response = _exchange(web, _approve(web, "viewer", scope, verifier), verifier)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return dict(response.json())


def test_smart_configuration_advertises_the_standalone_launch(web: TestClient) -> None:
    config = web.get("/.well-known/smart-configuration").json()
    assert config["authorization_endpoint"] == "http://127.0.0.1:8000/auth/authorize"
    assert config["grant_types_supported"] == ["authorization_code", "client_credentials", "refresh_token"]
    assert {"launch-standalone", "client-public", "permission-user", "permission-v2"} <= set(config["capabilities"])
    assert "launch-ehr" not in config["capabilities"] and "permission-patient" not in config["capabilities"]
    assert config["code_challenge_methods_supported"] == ["S256"]
    uris = web.get("/fhir/metadata").json()["rest"][0]["security"]["extension"][0]["extension"]
    assert {u["url"]: u["valueUri"] for u in uris} == {
        "token": "http://127.0.0.1:8000/auth/token",
        "authorize": "http://127.0.0.1:8000/auth/authorize",
    }


def test_a_user_token_reads_only_what_the_user_may_see(app_web: TestClient) -> None:
    issued = _token(app_web, "user/*.rs system/*.cruds")
    assert issued["scope"] == "user/*.rs"  # a user's token never gets system scopes
    bearer = {"Authorization": f"Bearer {issued['access_token']}"}
    found = app_web.get("/fhir/Patient?_count=100&_total=accurate", headers=bearer).json()
    assert {e["resource"]["id"] for e in found["entry"]} == GP_SEES and found["total"] == len(GP_SEES)
    assert app_web.get("/fhir/Patient/pat-0", headers=bearer).status_code == 404  # Hillcrest's patient
    assert app_web.get("/fhir/Patient/pat-1", headers=bearer).status_code == 200
    search = _gate(app_web).audit.entries(actions=["search"])[-1]
    assert search.user == f"PractitionerRole/role-{place.PRACTICE.code.lower()}-1" and search.role == "gp"


def test_scopes_narrow_what_the_token_may_do(app_web: TestClient) -> None:
    bearer = {"Authorization": f"Bearer {_token(app_web, 'user/Observation.rs')['access_token']}"}
    observations = app_web.get("/fhir/Observation?_count=500", headers=bearer).json()
    subjects = {e["resource"]["subject"]["reference"].split("/")[1] for e in observations["entry"]}
    assert subjects and subjects <= GP_SEES  # the scope narrows the type; the user's relationships still apply
    assert app_web.get("/fhir/Patient/pat-1", headers=bearer).status_code == 403
    assert app_web.get("/fhir/Encounter", headers=bearer).status_code == 403
    write = {"resourceType": "Observation", "status": "final", "code": {"text": "x"}}
    assert app_web.post("/fhir/Observation", json=write, headers=bearer).status_code == 403  # .rs: no create


def test_codes_are_spent_once_and_bound_to_client_redirect_and_verifier(app_web: TestClient) -> None:
    verifier = secrets.token_urlsafe(48)
    code = _approve(app_web, "viewer", "user/*.rs", verifier)
    assert _exchange(app_web, code, "another verifier entirely").json()["error"] == "invalid_grant"
    code = _approve(app_web, "viewer", "user/*.rs", verifier)
    assert _exchange(app_web, code, verifier, redirect_uri="https://app.example/other").json()["error"] == (
        "invalid_grant"
    )
    code = _approve(app_web, "viewer", "user/*.rs", verifier)
    _gate(app_web).tokens.register_client("other-app", None, "Other", "gp", None, "user/*.rs", (APP,))
    stolen = _exchange(app_web, code, verifier, client_id="other-app")
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    code = _approve(app_web, "viewer", "user/*.rs", verifier)
    assert _exchange(app_web, code, verifier).status_code == 200
    again = _exchange(app_web, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    refused = _gate(app_web).audit.entries(actions=["token-refused"])
    assert [e.detail["error"] for e in refused[-4:]] == ["invalid_grant"] * 4


def test_an_expired_code_is_refused(app_web: TestClient) -> None:
    verifier = secrets.token_urlsafe(48)
    code = _approve(app_web, "viewer", "user/*.rs", verifier)
    with _gate(app_web)._store.engine.begin() as conn:
        conn.execute(update(oauth_tokens).where(oauth_tokens.c.kind == "code").values(expires=1))
    response = _exchange(app_web, code, verifier)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_a_confidential_app_must_give_its_secret(app_web: TestClient) -> None:
    verifier = secrets.token_urlsafe(48)
    code = _approve(app_web, "desk", "user/Patient.rs", verifier)
    wrong = _exchange(app_web, code, verifier, client_id="desk", client_secret="not it")
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    code = _approve(app_web, "desk", "user/Patient.rs", verifier)
    right = app_web.post("/auth/token", data={"grant_type": "authorization_code", "code": code, "redirect_uri": APP,
                                              "code_verifier": verifier}, auth=("desk", SECRET))  # fmt: skip
    assert right.status_code == 200 and right.json()["scope"] == "user/Patient.rs"


def test_bad_authorisation_requests(app_web: TestClient) -> None:
    verifier = secrets.token_urlsafe(48)
    unregistered = _authorize_query("viewer", "user/*.rs", verifier, redirect_uri="https://evil.example/cb")
    page = app_web.get(f"/auth/authorize?{urlencode(unregistered)}", follow_redirects=False)
    assert page.status_code == 400 and "location" not in page.headers  # never sent to an unregistered address
    unknown = app_web.get(f"/auth/authorize?{urlencode(_authorize_query('nobody', 'user/*.rs', verifier))}")
    assert unknown.status_code == 400
    cases = {
        "invalid_request": _authorize_query("viewer", "user/*.rs", verifier, code_challenge_method="plain"),
        "invalid_scope": _authorize_query("viewer", "system/*.rs", verifier),
        "unsupported_response_type": _authorize_query("viewer", "user/*.rs", verifier, response_type="token"),
    }
    for error, query in cases.items():
        answer = app_web.get(f"/auth/authorize?{urlencode(query)}", follow_redirects=False)
        assert answer.status_code == 303 and parse_qs(urlsplit(answer.headers["location"]).query)["error"] == [error]
    denied_page = app_web.get(f"/auth/authorize?{urlencode(_authorize_query('viewer', 'user/*.rs', verifier))}")
    query = _authorize_query("viewer", "user/*.rs", verifier)
    denied = app_web.post("/auth/authorize", data={**query, "decision": "deny", "csrf": _csrf(denied_page.text)},
                          follow_redirects=False)  # fmt: skip
    assert parse_qs(urlsplit(denied.headers["location"]).query)["error"] == ["access_denied"]
    forged = app_web.post("/auth/authorize", data={**query, "decision": "approve", "csrf": "guess"})
    assert forged.status_code == 403


def test_signing_in_comes_first(web: TestClient) -> None:
    _gate(web).tokens.register_client("viewer", None, "Results viewer", "gp", None, "user/*.rs", (APP,))
    query = urlencode(_authorize_query("viewer", "user/*.rs", "v" * 50))
    answer = web.get(f"/auth/authorize?{query}", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in?next=/auth/authorize%3F")


def test_disabling_the_account_or_changing_its_role_ends_its_tokens(app_web: TestClient) -> None:
    bearer = {"Authorization": f"Bearer {_token(app_web, 'user/*.rs')['access_token']}"}
    assert app_web.get("/fhir/Patient/pat-1", headers=bearer).status_code == 200
    _gate(app_web).accounts.set_role(ADMIN, "dr.gp", "nurse")
    assert app_web.get("/fhir/Patient/pat-1", headers=bearer).status_code == 401  # it held the old role
    assert app_web.get("/", follow_redirects=False).status_code == 303  # and the web session ended too
    form = {"username": "dr.gp", "password": PASSWORD, "csrf": _csrf(app_web.get("/sign-in").text), "next": "/"}
    assert app_web.post("/sign-in", data=form, follow_redirects=False).status_code == 303
    bearer = {"Authorization": f"Bearer {_token(app_web, 'user/*.rs')['access_token']}"}
    assert app_web.get("/fhir/Patient?_count=1", headers=bearer).status_code == 200
    _gate(app_web).accounts.set_active(ADMIN, "dr.gp", False)
    assert app_web.get("/fhir/Patient?_count=1", headers=bearer).status_code == 401


def test_offline_access_gives_a_refresh_token_that_is_spent_on_use(app_web: TestClient) -> None:
    _gate(app_web).tokens.register_client("ward", None, "Ward app", "gp", None, "user/*.rs offline_access", (APP,))
    verifier = secrets.token_urlsafe(48)
    first = _exchange(app_web, _approve(app_web, "ward", "user/*.rs offline_access", verifier), verifier, "ward")
    assert first.json()["scope"] == "user/*.rs offline_access" and first.json()["refresh_token"]
    refresh = {"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"], "client_id": "ward"}
    renewed = app_web.post("/auth/token", data=refresh)
    assert renewed.status_code == 200 and renewed.json()["refresh_token"] != refresh["refresh_token"]
    bearer = {"Authorization": f"Bearer {renewed.json()['access_token']}"}
    assert app_web.get("/fhir/Patient/pat-1", headers=bearer).status_code == 200
    assert app_web.post("/auth/token", data=refresh).json()["error"] == "invalid_grant"  # spent
    as_bearer = {"Authorization": f"Bearer {renewed.json()['refresh_token']}"}
    assert app_web.get("/fhir/Patient/pat-1", headers=as_bearer).status_code == 401  # not an access token
    stolen = {**refresh, "refresh_token": renewed.json()["refresh_token"], "client_id": "viewer"}
    assert app_web.post("/auth/token", data=stolen).json()["error"] == "invalid_grant"  # another client's
    without = _exchange(app_web, _approve(app_web, "viewer", "user/*.rs offline_access", verifier), verifier)
    assert without.json()["scope"] == "user/*.rs" and "refresh_token" not in without.json()  # not registered for it
