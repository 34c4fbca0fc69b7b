"""OpenID Connect sign-in end to end against a real OIDC provider on loopback, started by these tests.

The provider (below) is a small Starlette app served by uvicorn on 127.0.0.1: discovery, JWKS, an authorisation
endpoint that signs in whoever the test says and checks the PKCE challenge method, and a token endpoint that
checks the client secret, the redirect URI and the PKCE verifier and signs an RS256 ID token with Authlib's JOSE.
JoinedUp's side is the real thing (Authlib's client inside the app). Each test can make the provider misbehave —
wrong key, issuer, audience, nonce, an expired token — and the sign-in must be refused. On both databases.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import uvicorn
from authlib.jose import JsonWebKey, jwt
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from joinedup.app import create_app
from joinedup.settings import Settings

from ..web import place

CLIENT_ID = "joinedup-test"
CLIENT_SECRET = "a provider client secret for tests"
CIS2_GP = "S8000:G8000:R8000"  # a CIS2-style job role code (clinical practitioner access role)
BASE = "https://127.0.0.1:8000"  # production: the session cookie is Secure, so the browser must be on https
CALLBACK = f"{BASE}/sign-in/oidc/callback"


@dataclass
class Provider:
    """The identity provider's state: who signs in next, how the ID token should (mis)behave, codes issued."""

    issuer: str = ""
    key: Any = None
    other_key: Any = None  # a key not in the JWKS: signing with it must be refused
    claims: dict[str, Any] = field(default_factory=dict)
    misbehave: dict[str, Any] = field(default_factory=dict)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    challenges_seen: list[str] = field(default_factory=list)

    def app(self) -> Starlette:
        async def discovery(_: Request) -> Response:
            return JSONResponse({
                "issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            })  # fmt: skip

        async def jwks(_: Request) -> Response:
            return JSONResponse({"keys": [self.key.as_dict(is_private=False)]})

        async def authorize(request: Request) -> Response:
            q = request.query_params
            if q.get("client_id") != CLIENT_ID or q.get("redirect_uri") != CALLBACK or q.get("response_type") != "code":
                return JSONResponse({"error": "invalid_request"}, status_code=400)
            if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
                return JSONResponse({"error": "invalid_request", "error_description": "PKCE required"}, 400)
            self.challenges_seen.append(q["code_challenge"])
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"challenge": q["code_challenge"], "nonce": q.get("nonce"), "scope": q.get("scope")}
            return RedirectResponse(f"{CALLBACK}?{urlencode({'code': code, 'state': q.get('state', '')})}", 302)

        async def token(request: Request) -> Response:
            form = await request.form()
            expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if request.headers.get("authorization") != f"Basic {expected}":
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            issued = self.codes.pop(str(form.get("code")), None)
            if issued is None or form.get("redirect_uri") != CALLBACK:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            verifier = str(form.get("code_verifier", ""))
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if challenge != issued["challenge"]:
                return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, status_code=400)
            now = int(time.time())
            claims = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": issued["nonce"],
                      "auth_time": now, **self.claims}  # fmt: skip
            claims.update(self.misbehave.get("claims", {}))
            key = self.other_key if self.misbehave.get("wrong_key") else self.key
            id_token = jwt.encode({"alg": "RS256", "kid": key.as_dict()["kid"]}, claims, key).decode()
            body = {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300}
            if not self.misbehave.get("no_id_token"):
                body["id_token"] = id_token
            return JSONResponse(body)

        return Starlette(routes=[
            Route("/.well-known/openid-configuration", discovery), Route("/jwks", jwks),
            Route("/authorize", authorize), Route("/token", token, methods=["POST"]),
        ])  # fmt: skip


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    """The provider, served by uvicorn on a free loopback port for the module's tests."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    found = Provider(issuer=f"http://127.0.0.1:{sock.getsockname()[1]}")
    found.key = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": "provider-key"})
    found.other_key = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": "provider-key"})
    server = uvicorn.Server(uvicorn.Config(found.app(), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield found
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def oidc_web(loaded: str, tmp_path: Path, provider: Provider) -> Iterator[TestClient]:
    provider.misbehave = {}
    provider.claims = {
        "sub": "910000000001", "name": "Dr Ada Test", "selected_roleid": "555021935107",
        "nhsid_nrbac_roles": [
            {"person_roleid": "555021935106", "role_code": "S0030:G0100:R0570", "org_code": place.ACUTE.code},
            {"person_roleid": "555021935107", "role_code": CIS2_GP, "org_code": place.PRACTICE.code},
        ],
    }  # fmt: skip
    settings = Settings(
        database_url=loaded, environment="production", export_dir=tmp_path / "exports", base_url=BASE,
        oidc_issuer=provider.issuer, oidc_client_id=CLIENT_ID, oidc_client_secret=CLIENT_SECRET,
        oidc_role_map={"R8000": "gp"},
    )  # fmt: skip
    with TestClient(create_app(settings), base_url=BASE) as client:
        yield client


def _sign_in_via_provider(web: TestClient, next_path: str = "/") -> Response | httpx.Response:
    """The browser's part: start at JoinedUp, follow to the provider, come back with its code."""
    start = web.get(f"/sign-in/oidc?next={next_path}", follow_redirects=False)
    assert start.status_code == 302, start.text
    at_provider = httpx.get(start.headers["location"], follow_redirects=False)
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["location"])
    return web.get(f"{back.path}?{back.query}", follow_redirects=False)


def _audit(web: TestClient, action: str) -> list[Any]:
    entries: list[Any] = web.app.state.services.gate.audit.entries(actions=[action])  # type: ignore[attr-defined]
    return entries


def test_the_sign_in_page_offers_the_provider(oidc_web: TestClient) -> None:
    page = oidc_web.get("/sign-in?next=/record/pat-1").text
    assert "Sign in with NHS Care Identity Service 2" in page and "/sign-in/oidc?next=/record/pat-1" in page


def test_a_cis2_gp_signs_in_and_sees_what_a_gp_there_sees(oidc_web: TestClient, provider: Provider) -> None:
    start = oidc_web.get("/sign-in/oidc?next=/record/pat-1", follow_redirects=False)
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]  # PKCE, nonce, state
    assert "nationalrbacaccess" in query["scope"][0]
    at_provider = httpx.get(start.headers["location"], follow_redirects=False)
    back = urlsplit(at_provider.headers["location"])
    done = oidc_web.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/record/pat-1"
    home = oidc_web.get("/").text
    assert "Dr Ada Test" in home and "Riverside Surgery" in home
    assert oidc_web.get("/record/pat-1").status_code == 200  # registered at Riverside: a relationship
    assert oidc_web.get("/record/pat-0").status_code == 404  # registered at Hillcrest: none
    signed = _audit(oidc_web, "sign-in")[-1]
    assert signed.role == "gp" and signed.organisation == f"Organization/{place.PRACTICE.id}"
    assert signed.detail == {"how": "oidc", "provider_role": CIS2_GP}
    replay = oidc_web.get(f"{back.path}?{back.query}", follow_redirects=False)  # the same code and state again
    assert replay.status_code == 403


def test_an_unmapped_role_is_refused_with_a_clear_page(oidc_web: TestClient, provider: Provider) -> None:
    provider.claims["selected_roleid"] = "555021935106"  # the hospital role: not mapped
    refused = _sign_in_via_provider(oidc_web)
    assert refused.status_code == 403
    assert "Your role at the identity provider does not give access to JoinedUp" in refused.text
    assert oidc_web.get("/", follow_redirects=False).status_code == 303  # not signed in
    failed = _audit(oidc_web, "sign-in-failed")[-1]
    assert failed.detail["why"] == "unmapped-role" and failed.detail["how"] == "oidc"


def test_an_organisation_outside_the_partnership_is_refused(oidc_web: TestClient, provider: Provider) -> None:
    provider.claims["nhsid_nrbac_roles"][1]["org_code"] = "X99999"
    refused = _sign_in_via_provider(oidc_web)
    assert refused.status_code == 403 and "not part of this shared care record" in refused.text
    assert _audit(oidc_web, "sign-in-failed")[-1].detail["why"] == "unknown-organisation"


@pytest.mark.parametrize(
    ("misbehave", "expected"),
    [
        ({"wrong_key": True}, "BadSignatureError"),
        ({"claims": {"iss": "http://127.0.0.1:1/someone-else"}}, "InvalidClaimError"),
        ({"claims": {"aud": "another-client"}}, "InvalidClaimError"),
        ({"claims": {"aud": "another-client", "azp": CLIENT_ID}}, "InvalidClaimError"),  # Authlib alone: accepted
        ({"claims": {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}}, "ExpiredTokenError"),
        ({"claims": {"nonce": "not-the-nonce-we-sent"}}, "InvalidClaimError"),
        ({"no_id_token": True}, "no-id-token"),
    ],
    ids=["signature", "issuer", "audience", "audience-with-azp", "expired", "nonce", "no-id-token"],
)
def test_a_bad_id_token_is_refused(
    oidc_web: TestClient, provider: Provider, misbehave: dict[str, Any], expected: str
) -> None:
    provider.misbehave = misbehave
    refused = _sign_in_via_provider(oidc_web)
    assert refused.status_code == 403 and "did not work" in refused.text
    assert oidc_web.get("/", follow_redirects=False).status_code == 303
    failed = _audit(oidc_web, "sign-in-failed")[-1].detail
    assert failed.get("error", failed["why"]) == expected


def test_a_forged_state_is_refused(oidc_web: TestClient, provider: Provider) -> None:
    start = oidc_web.get("/sign-in/oidc", follow_redirects=False)
    at_provider = httpx.get(start.headers["location"], follow_redirects=False)
    code = parse_qs(urlsplit(at_provider.headers["location"]).query)["code"][0]
    forged = oidc_web.get(f"/sign-in/oidc/callback?code={code}&state=forged", follow_redirects=False)
    assert forged.status_code == 403
    assert oidc_web.get("/", follow_redirects=False).status_code == 303


def test_without_a_provider_configured_there_is_no_oidc_sign_in(web: TestClient) -> None:
    assert "Sign in with" not in web.get("/sign-in").text
    assert web.get("/sign-in/oidc", follow_redirects=False).status_code == 404
