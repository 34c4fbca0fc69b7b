"""Development sign-in: demo users per role from the loaded place, a signed session, refused in production and
when the server is not on loopback; the session cookie is good in every process of one deployment."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from joinedup.app import create_app
from joinedup.settings import Settings
from joinedup.web.csrf import CSRF_HEADER

from .conftest import csrf_of, sign_in_as


def test_pages_redirect_to_sign_in_and_back(web: TestClient) -> None:
    response = web.get("/record/pat-1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=/record/pat-1"
    sign_in_as(web, "gp", "/record/pat-1")
    assert web.get("/record/pat-1").status_code == 200


def test_sign_in_lists_a_demo_user_for_each_role(web: TestClient) -> None:
    page = web.get("/sign-in").text
    for label in (
        "GP",
        "District nurse",
        "Social worker",
        "Mental health practitioner",
        "Care home staff",
        "SPA triage",
        "MDG coordinator",
        "IG manager",
        "Resident",
    ):
        assert f">{label} – " in page, label
    assert "Riverside Surgery" in page


def test_header_shows_name_role_and_organisation(web: TestClient) -> None:
    sign_in_as(web, "social-worker")
    page = web.get("/").text
    assert "Social worker, Saltmoor City Council Adult Social Care" in page
    assert "Sign out" in page


def test_unknown_demo_user_is_an_error(web: TestClient) -> None:
    response = web.post("/sign-in", data={"demo_user": "astronaut", "csrf": csrf_of(web.get("/sign-in").text)})
    assert response.status_code == 400
    assert "Select who you want to sign in as" in response.text


def test_next_must_stay_on_this_site(web: TestClient) -> None:
    form = {"demo_user": "gp", "next": "//evil.example/", "csrf": csrf_of(web.get("/sign-in").text)}
    response = web.post("/sign-in", data=form, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_sign_out_clears_the_session(web: TestClient) -> None:
    sign_in_as(web, "gp")
    token = csrf_of(web.get("/").text)  # the header's sign-out form carries the session's token
    web.headers.pop(CSRF_HEADER)
    assert web.post("/sign-out", follow_redirects=False).status_code == 403  # without it: refused
    assert web.get("/", follow_redirects=False).status_code == 200
    response = web.post("/sign-out", data={"csrf": token}, follow_redirects=False)
    assert response.headers["location"] == "/sign-in?signed_out=true"
    assert "You have signed out" in web.get("/sign-in?signed_out=true").text
    assert web.get("/", follow_redirects=False).status_code == 303


def test_a_tampered_cookie_is_not_a_sign_in(web: TestClient) -> None:
    sign_in_as(web, "gp")
    web.cookies.set("joinedup_session", "e30=.forged.signature")
    assert web.get("/", follow_redirects=False).status_code == 303


def test_production_refuses_the_development_sign_in(loaded: str, tmp_path: Path) -> None:
    settings = Settings(database_url=loaded, environment="production", export_dir=tmp_path / "exports")
    with TestClient(create_app(settings), base_url="https://127.0.0.1:8000") as client:  # Secure cookies: TLS
        page = client.get("/sign-in")
        assert page.status_code == 200 and 'name="password"' in page.text and "demo user" not in page.text
        form = {"demo_user": "gp", "csrf": csrf_of(page.text)}
        response = client.post("/sign-in", data=form, follow_redirects=False)
        assert response.status_code == 400
        assert client.get("/", follow_redirects=False).status_code == 303


def test_development_off_loopback_offers_no_demo_users(loaded: str, tmp_path: Path) -> None:
    """`joinedup serve` records whether it listens on loopback; unless it says so, one click signs nobody in."""
    settings = Settings(database_url=loaded, environment="development", export_dir=tmp_path / "exports")
    assert settings.served_on_loopback is False
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        page = client.get("/sign-in")
        assert page.status_code == 200 and 'name="password"' in page.text and "demo_user" not in page.text
        form = {"demo_user": "ig-manager", "csrf": csrf_of(page.text)}
        assert client.post("/sign-in", data=form, follow_redirects=False).status_code == 400
        assert client.get("/", follow_redirects=False).status_code == 303


def test_two_processes_of_one_deployment_accept_each_others_session(loaded: str, tmp_path: Path) -> None:
    """Each `serve` worker builds its own app from the same settings: a cookie one signs is good at the other."""
    key_file = tmp_path / "var" / "session.key"
    settings = Settings(database_url=loaded, environment="test", served_on_loopback=True,
                        export_dir=tmp_path / "exports", session_secret_file=key_file)  # fmt: skip
    base = "http://127.0.0.1:8000"
    with (
        TestClient(create_app(settings), base_url=base) as first,
        TestClient(create_app(settings), base_url=base) as second,
    ):
        sign_in_as(first, "gp")
        second.cookies.update(first.cookies)
        assert "GP, Riverside Surgery" in second.get("/", follow_redirects=False).text
    assert key_file.stat().st_mode & 0o077 == 0  # made on first use, its owner's only
    other = Settings(database_url=loaded, environment="test", export_dir=tmp_path / "exports",
                     session_secret_file=tmp_path / "another.key")  # fmt: skip
    with TestClient(create_app(other), base_url=base) as elsewhere:
        elsewhere.cookies.update(first.cookies)
        assert elsewhere.get("/", follow_redirects=False).status_code == 303  # another key: not signed in
