"""Development sign-in: demo users per role from the loaded place, a signed session, refused in production."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from joinedup.app import create_app
from joinedup.settings import Settings

from .conftest import sign_in_as


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
    response = web.post("/sign-in", data={"demo_user": "astronaut"})
    assert response.status_code == 400
    assert "Select who you want to sign in as" in response.text


def test_next_must_stay_on_this_site(web: TestClient) -> None:
    response = web.post("/sign-in", data={"demo_user": "gp", "next": "//evil.example/"}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_sign_out_clears_the_session(web: TestClient) -> None:
    sign_in_as(web, "gp")
    response = web.post("/sign-out", follow_redirects=False)
    assert response.headers["location"] == "/sign-in?signed_out=true"
    assert "You have signed out" in web.get("/sign-in?signed_out=true").text
    assert web.get("/", follow_redirects=False).status_code == 303


def test_a_tampered_cookie_is_not_a_sign_in(web: TestClient) -> None:
    sign_in_as(web, "gp")
    web.cookies.set("joinedup_session", "e30=.forged.signature")
    assert web.get("/", follow_redirects=False).status_code == 303


def test_production_refuses_the_development_sign_in(loaded: str, tmp_path: Path) -> None:
    settings = Settings(database_url=loaded, environment="production", export_dir=tmp_path / "exports")
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        page = client.get("/sign-in")
        assert page.status_code == 200 and 'name="password"' in page.text and "demo user" not in page.text
        response = client.post("/sign-in", data={"demo_user": "gp"}, follow_redirects=False)
        assert response.status_code == 400
        assert client.get("/", follow_redirects=False).status_code == 303
