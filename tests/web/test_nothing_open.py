"""Nothing is open by default (decision 0311): the routes declared public are exactly these, and every other route
of the app refuses a request without credentials — the API with 401 and an OperationOutcome, the pages with a
redirect to sign in — as it does a forged bearer token. The API documentation is not served in production."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from starlette.routing import Mount

from joinedup.api.credentials import is_api_path, route_endpoints
from joinedup.api.public import is_public
from joinedup.app import create_app
from joinedup.settings import Settings

from .conftest import sign_in_as

# Adding a public route is a visible change: it has to be added here too.
PUBLIC_ROUTES = {
    ("GET", "/fhir/metadata"),  # the CapabilityStatement
    ("GET", "/healthz"),
    ("GET", "/.well-known/smart-configuration"),  # SMART discovery, at the root and under the FHIR base
    ("GET", "/fhir/.well-known/smart-configuration"),
    ("POST", "/auth/token"),  # the OAuth2 client proves itself with its own credentials
    ("GET", "/sign-in"),
    ("POST", "/sign-in"),
    ("GET", "/sign-in/oidc"),
    ("GET", "/sign-in/oidc/callback"),
    ("MOUNT", "/assets"),  # the pages' static files
    ("MOUNT", "/static/nhsuk"),
    ("MOUNT", "/static/htmx"),
}
PARAMETER = re.compile(r"\{[^}]+\}")


def _routes(client: TestClient) -> list[tuple[str, str, bool]]:
    """(method, path, declared public) for every route of the app, HEAD left out (it is GET's)."""
    found = []
    for context, endpoint in route_endpoints(client.app.routes):  # type: ignore[attr-defined]
        path = str(context.path)
        methods = ["MOUNT"] if isinstance(context.original_route, Mount) else sorted(set(context.methods) - {"HEAD"})
        found += [(method, path, is_public(endpoint)) for method in methods]
    return found


def _url(method: str, path: str) -> tuple[str, str]:
    """A concrete request for a route: each path parameter an id that exists nowhere; a mount's file."""
    if method == "MOUNT":
        return "GET", f"{path}/nothing.css"
    return method, PARAMETER.sub("x", path)


def test_the_public_routes_are_exactly_these(anonymous_client: TestClient) -> None:
    declared = {(method, path) for method, path, public in _routes(anonymous_client) if public}
    assert declared == PUBLIC_ROUTES


def test_public_routes_answer_without_credentials(anonymous_client: TestClient) -> None:
    assert anonymous_client.get("/fhir/metadata").json()["resourceType"] == "CapabilityStatement"
    assert anonymous_client.get("/healthz").json() == {"status": "ok"}
    assert "token_endpoint" in anonymous_client.get("/.well-known/smart-configuration").json()
    assert 'name="password"' in anonymous_client.get("/sign-in").text
    assert anonymous_client.get("/static/htmx/htmx.min.js").status_code == 200


def _refused(anonymous_client: TestClient, headers: dict[str, str]) -> list[str]:
    """Every non-public route requested with these headers; the ones that were not refused as they should be."""
    wrong = []
    routes = [(m, p) for m, p, public in _routes(anonymous_client) if not public]
    assert len(routes) > 50  # every route of the app, not a sample
    for method, path in routes:
        verb, url = _url(method, path)
        response = anonymous_client.request(verb, url, headers=headers, follow_redirects=False)
        if is_api_path(url):
            ok = (
                response.status_code == 401
                and response.json()["resourceType"] == "OperationOutcome"
                and response.json()["issue"][0]["code"] == "login"
            )
        else:
            location = response.headers.get("location", "")
            ok = response.status_code == 401 or (response.status_code == 303 and location.startswith("/sign-in?next="))
        if not ok:
            wrong.append(f"{verb} {url}: {response.status_code}")
    return wrong


def test_every_other_route_refuses_a_request_without_credentials(anonymous_client: TestClient) -> None:
    assert _refused(anonymous_client, {}) == []


def test_every_other_route_refuses_a_forged_or_expired_token(anonymous_client: TestClient) -> None:
    wrong = _refused(anonymous_client, {"Authorization": "Bearer forged"})
    assert wrong == []


def test_the_api_without_credentials_is_401_in_every_environment(loaded: str, tmp_path: Path) -> None:
    for environment in ("development", "test", "production"):
        settings = Settings(database_url=loaded, environment=environment, export_dir=tmp_path / "exports",
                            served_on_loopback=True)  # fmt: skip
        with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
            response = client.get("/fhir/Patient")
            assert response.status_code == 401, environment
            assert response.json()["issue"][0]["code"] == "login"
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert client.post("/fhir/Patient", json={"resourceType": "Patient"}).status_code == 401


def test_a_signed_in_page_user_is_not_an_api_caller(anonymous_client: TestClient, loaded: str) -> None:
    """The API reads bearer tokens only: a session cookie is not a credential there (so no CSRF can reach it)."""
    sign_in_as(anonymous_client, "gp")
    assert anonymous_client.get("/", follow_redirects=False).status_code == 200
    assert anonymous_client.get("/fhir/Patient").status_code == 401


def test_api_documentation_needs_sign_in_and_is_off_in_production(
    client: TestClient, anonymous_client: TestClient, loaded: str, tmp_path: Path
) -> None:
    for path in ("/api/docs", "/api/docs/assets/swagger-ui-bundle.js", "/api/openapi.json"):
        refused = anonymous_client.get(path, follow_redirects=False)
        assert refused.status_code == 303 and refused.headers["location"] == f"/sign-in?next={path}"
    assert client.get("/api/openapi.json").json()["info"]["title"] == "JoinedUp"  # a bearer token
    sign_in_as(anonymous_client, "gp")
    page = anonymous_client.get("/api/docs").text  # a signed-in user
    assert "swagger-ui" in page
    # Swagger UI's files come from the app (the pinned npm package), nothing from a CDN or another host
    assert not re.findall(r"https?://(?!127\.0\.0\.1)", page), page
    for asset in re.findall(r'(?:src|href)="(/api/docs/assets/[^"]+)"', page):
        assert anonymous_client.get(asset).status_code == 200, asset
    assert anonymous_client.get("/redoc", follow_redirects=False).status_code == 404  # ReDoc is not offered
    settings = Settings(database_url=loaded, environment="production", export_dir=tmp_path / "exports")
    with TestClient(create_app(settings), base_url="https://127.0.0.1:8000") as production:
        production.headers.update(client.headers)
        for path in ("/api/docs", "/api/docs/assets", "/redoc", "/api/openapi.json", "/docs/oauth2-redirect"):
            assert path not in {getattr(r, "path", None) for r in production.app.routes}  # type: ignore[attr-defined]
