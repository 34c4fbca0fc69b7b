"""Every state-changing request to a page carries the session's CSRF token (decision 0311): walking every POST,
PUT, PATCH and DELETE route of the app, a signed-in browser's request without the token, with a forged one, or with
the token of another session is refused before the route runs; with its own token it gets through. The API's
bearer-token requests are not CSRF-able (a browser never adds a bearer token by itself) and are not affected."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from joinedup.api.credentials import is_api_path, route_endpoints
from joinedup.web.csrf import CSRF_HEADER, REFUSED, UNSAFE

from .conftest import csrf_of, sign_in_as

PARAMETER = re.compile(r"\{[^}]+\}")


def _unsafe_routes(client: TestClient) -> list[tuple[str, str]]:
    """(method, concrete URL) for every unsafe route of the app; each path parameter an id that exists nowhere."""
    found = []
    for context, _ in route_endpoints(client.app.routes):  # type: ignore[attr-defined]
        for method in sorted(set(getattr(context, "methods", None) or ()) & UNSAFE):
            found.append((method, PARAMETER.sub("x", str(context.path))))
    return found


def _browser(client: TestClient) -> str:
    """Sign the client in with a session cookie and no bearer token; its own token, not sent by default."""
    sign_in_as(client, "gp")
    return client.headers.pop(CSRF_HEADER)


def _refused_for_csrf(client: TestClient, method: str, url: str, form: dict[str, str]) -> bool:
    response = client.request(method, url, data=form, follow_redirects=False)
    return response.status_code == 403 and response.text == REFUSED


def test_every_page_form_route_refuses_a_missing_forged_or_foreign_token(
    anonymous_client: TestClient, client: TestClient, loaded: str
) -> None:
    browser = anonymous_client
    own = _browser(browser)
    foreign = _browser(client)  # another session of the same deployment (another app process, even)
    client.headers.pop("Authorization")
    assert own != foreign
    pages = [(method, url) for method, url in _unsafe_routes(browser) if not is_api_path(url)]
    assert {url for _, url in pages} >= {"/sign-in", "/sign-out", "/search", "/identity/review/x", "/auth/authorize"}
    for method, url in pages:
        assert _refused_for_csrf(browser, method, url, {}), f"{method} {url} without a token"
        assert _refused_for_csrf(browser, method, url, {"csrf": "forged"}), f"{method} {url} with a forged token"
        assert _refused_for_csrf(browser, method, url, {"csrf": foreign}), f"{method} {url} with another's token"
        headers = {CSRF_HEADER: foreign}
        refused = browser.request(method, url, headers=headers, follow_redirects=False)
        assert refused.status_code == 403 and refused.text == REFUSED, f"{method} {url}: another's token in the header"
    for method, url in pages:
        if url != "/sign-out":  # left till last: it ends the session the token belongs to
            assert not _refused_for_csrf(browser, method, url, {"csrf": own}), f"{method} {url} with its own token"
    assert not _refused_for_csrf(browser, "POST", "/sign-out", {"csrf": own})


def test_every_page_form_carries_the_token(web: TestClient) -> None:
    """The forms the pages render (sign-in, search, sign-out in the header) send the token as a field."""
    web.headers.pop("Authorization")
    token = csrf_of(web.get("/sign-in").text)
    assert web.post("/sign-in", data={"demo_user": "gp", "csrf": token}, follow_redirects=False).status_code == 303
    page = web.get("/search").text
    forms = re.findall(r'<form[^>]*method="post"[^>]*>(.*?)</form>', page, flags=re.S)
    assert len(forms) >= 2 and all('name="csrf"' in form for form in forms)  # search, and sign-out
    token = csrf_of(page)
    assert web.post("/search", data={"local_id": "nobody", "csrf": token}).status_code == 200


def test_bearer_token_requests_to_the_api_need_no_csrf_token(client: TestClient, loaded: str) -> None:
    """A cookie beside the bearer token changes nothing: the API answers on the token alone."""
    sign_in_as(client, "gp")
    client.headers.pop(CSRF_HEADER)
    api = [(method, url) for method, url in _unsafe_routes(client) if is_api_path(url)]
    assert {url for _, url in api} >= {"/fhir/x", "/fhir/Person/x/$merge", "/auth/token"}
    for method, url in api:
        response = client.request(method, url, json={}, follow_redirects=False)
        assert response.text != REFUSED, f"{method} {url}"
    created = client.post("/fhir/Observation", json={"resourceType": "Observation", "status": "final",
                                                     "code": {"text": "pulse"}})  # fmt: skip
    assert created.status_code == 201
