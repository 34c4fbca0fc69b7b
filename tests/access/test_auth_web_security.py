"""Web security: server-side sessions (no fixation, revocable at once), rate limits on sign-in and on /auth/token
(per name and per address, 429 with Retry-After, audited, no enumeration), HSTS only behind TLS, and the CSP's
frame-ancestors. Through the real app on both databases."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from joinedup.access.context import AccessContext
from joinedup.app import create_app
from joinedup.settings import Settings
from joinedup.web.session import renew

from ..web import place
from ..web.conftest import sign_in_as

PASSWORD = "correct horse battery staple"
COOKIE = "joinedup_session"
ADMIN = AccessContext(user="PractitionerRole/admin", role="administrator")


def _gate(web: TestClient) -> Any:
    return web.app.state.services.gate  # type: ignore[attr-defined]


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return found.group(1)


def _account(web: TestClient, username: str) -> None:
    _gate(web).accounts.create(
        username, PASSWORD, "Dr Test", f"PractitionerRole/role-{place.PRACTICE.code.lower()}-1", "gp",
        f"Organization/{place.PRACTICE.id}", place.PRACTICE.name,
    )  # fmt: skip


def _sign_in(web: TestClient, username: str, password: str) -> Any:
    form = {"username": username, "password": password, "csrf": _csrf(web.get("/sign-in").text), "next": "/"}
    return web.post("/sign-in", data=form, follow_redirects=False)


def _use(web: TestClient, cookie: str) -> None:
    """The browser holds this session cookie (and no other)."""
    web.cookies.clear()
    web.cookies.set(COOKIE, cookie, domain="127.0.0.1")


def _signed_in(web: TestClient, cookie: str) -> bool:
    _use(web, cookie)
    return web.get("/", follow_redirects=False).status_code == 200


@pytest.fixture
def limited(loaded: str, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=loaded, environment="test", export_dir=tmp_path / "exports", served_on_loopback=True,
        sign_in_failures_per_account=3,
        sign_in_failures_per_address=7, token_failures_per_client=2, token_failures_per_address=4,
        trusted_proxies=["10.0.0.1"],
    )  # fmt: skip
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        yield client


# --- sessions ------------------------------------------------------------------------------------------------------
def test_signing_in_gives_a_new_session_and_ends_the_old_one(web: TestClient) -> None:
    _account(web, "dr.one")
    web.get("/sign-in")
    planted = web.cookies[COOKIE]  # what an attacker could have planted before the victim signed in
    sign_in_as(web, "gp")
    first = web.cookies[COOKIE]
    assert first != planted and _signed_in(web, first)
    _use(web, first)
    assert _sign_in(web, "dr.one", PASSWORD).status_code == 303  # signing in again, as someone else
    second = web.cookies[COOKIE]
    assert second != first and _signed_in(web, second)
    assert not _signed_in(web, first)  # the old session identifier no longer works
    assert not _signed_in(web, planted)


def test_signing_out_ends_the_session_on_the_server(web: TestClient) -> None:
    sign_in_as(web, "gp")
    kept = web.cookies[COOKIE]  # a copy of the cookie, as a stolen one would be
    web.post("/sign-out")
    assert not _signed_in(web, kept)


def test_a_role_change_or_a_disabled_account_signs_the_browser_out_at_once(web: TestClient) -> None:
    _account(web, "dr.two")
    assert _sign_in(web, "dr.two", PASSWORD).status_code == 303
    assert web.get("/", follow_redirects=False).status_code == 200
    _gate(web).accounts.set_role(ADMIN, "dr.two", "nurse")  # a privilege change
    assert web.get("/", follow_redirects=False).status_code == 303
    assert _sign_in(web, "dr.two", PASSWORD).status_code == 303
    assert "District nurse" in web.get("/").text or "Nurse" in web.get("/").text
    _gate(web).accounts.set_active(ADMIN, "dr.two", False)
    assert web.get("/", follow_redirects=False).status_code == 303
    assert _sign_in(web, "dr.two", PASSWORD).status_code == 400  # and cannot sign in again
    disabled = _gate(web).audit.entries(actions=["permission-change"])[-1]
    assert disabled.detail == {"change": "account disabled"} and disabled.user == ADMIN.user


# --- rate limits ---------------------------------------------------------------------------------------------------
def test_sign_in_is_rate_limited_per_name_the_same_for_unknown_and_known_names(limited: TestClient) -> None:
    _account(limited, "dr.known")
    answers = {}
    for name in ("dr.known", "dr.unknown"):
        statuses = [_sign_in(limited, name, "wrong password!!").status_code for _ in range(3)]
        assert statuses == [400, 400, 400]
        answers[name] = _sign_in(limited, name, PASSWORD if name == "dr.known" else "x" * 12)
    known, unknown = answers["dr.known"], answers["dr.unknown"]
    assert known.status_code == unknown.status_code == 429  # even the right password waits
    assert 0 < int(known.headers["retry-after"]) <= 900 and unknown.headers["retry-after"]
    message = "Too many attempts to sign in. Wait 15 minutes and try again."
    assert message in known.text and message in unknown.text
    throttled = _gate(limited).audit.entries(actions=["sign-in-throttled"])
    assert [e.what for e in throttled] == [["Account/dr.known"], ["Account/dr.unknown"]]


def test_sign_in_is_rate_limited_per_address(limited: TestClient) -> None:
    statuses = [_sign_in(limited, f"someone-{n}", "wrong password!!").status_code for n in range(8)]
    assert statuses == [400] * 7 + [429]


def test_the_token_endpoint_is_rate_limited_per_client_and_per_address(limited: TestClient) -> None:
    _gate(limited).tokens.register_client("feed", "a long client secret", "Feed", "system", None, "system/*.rs")
    form = {"grant_type": "client_credentials", "scope": "system/*.rs"}
    wrong = [limited.post("/auth/token", data=form, auth=("feed", "not it")).status_code for _ in range(3)]
    assert wrong == [401, 401, 429]
    held = limited.post("/auth/token", data=form, auth=("feed", "a long client secret"))
    assert held.status_code == 429 and held.json()["error"] == "slow_down" and int(held.headers["retry-after"]) > 0
    others = [limited.post("/auth/token", data=form, auth=(f"c{n}", "x")).status_code for n in range(3)]
    assert others == [401, 401, 429]  # four failures from this address in all
    assert _gate(limited).audit.entries(actions=["token-throttled"])[-1].what == ["Device/c2"]


# --- headers -------------------------------------------------------------------------------------------------------
def test_hsts_only_over_tls(limited: TestClient, loaded: str, tmp_path: Path) -> None:
    assert "strict-transport-security" not in limited.get("/sign-in").headers
    spoofed = limited.get("/sign-in", headers={"X-Forwarded-Proto": "https"})  # from an untrusted client
    assert "strict-transport-security" not in spoofed.headers
    with TestClient(limited.app, base_url="https://127.0.0.1:8000") as tls:  # the request itself came over TLS
        assert tls.get("/sign-in").headers["strict-transport-security"].startswith("max-age=31536000")
    with TestClient(limited.app, client=("10.0.0.1", 5000)) as proxied:  # a trusted proxy says it did
        assert "strict-transport-security" in proxied.get("/sign-in", headers={"X-Forwarded-Proto": "https"}).headers
        assert "strict-transport-security" not in proxied.get("/sign-in", headers={"X-Forwarded-Proto": "http"}).headers
    settings = Settings(database_url=loaded, environment="test", export_dir=tmp_path / "e", hsts=True)
    with TestClient(create_app(settings)) as always:
        assert "strict-transport-security" in always.get("/healthz").headers


def test_no_page_or_api_answer_may_be_framed(web: TestClient) -> None:
    for path in ("/sign-in", "/fhir/metadata", "/.well-known/smart-configuration"):
        headers = web.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"


def test_a_privilege_change_within_a_session_renews_its_identifier(web: TestClient) -> None:
    async def elevate(request: Request) -> PlainTextResponse:  # as break-glass would, on granting access
        renew(request)
        return PlainTextResponse("renewed")

    web.app.add_api_route("/test-only/elevate", elevate, methods=["POST"])  # type: ignore[attr-defined]
    sign_in_as(web, "gp")
    before = web.cookies[COOKIE]
    assert web.post("/test-only/elevate").text == "renewed"
    after = web.cookies[COOKIE]
    assert after != before and _signed_in(web, after)
    assert not _signed_in(web, before)
