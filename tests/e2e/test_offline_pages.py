"""Each main page, signed in as several roles, loads everything from the app itself: any request to another host
(a web font, a script from a CDN) fails the test, where the browser context's router would only have refused it.
The home pages' links for each role are checked with axe-core too, and a screenshot of each is kept."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, Request, expect

from .conftest import BIG_PERSON, check_accessibility
from .test_journey import sign_in

pytestmark = pytest.mark.xdist_group("browser")

# (the demo user's label on the sign-in page, the pages to open after its home page)
ROLE_PAGES = (
    ("GP", ["/search", f"/record/{BIG_PERSON.patient_id}", "/identity/review"]),
    ("IG manager", ["/ig/break-glass", "/ig/unusual-access", "/ig/audit?seq=1", "/ig/subject-access", "/search"]),
    ("MDG coordinator", ["/population", "/identity/review", "/search"]),
    ("Resident", ["/my-access-log"]),
)


@pytest.fixture
def requested(page: Page) -> Iterator[list[str]]:
    """Every URL the page asks for, whatever the router then does with it."""
    urls: list[str] = []

    def note(request: Request) -> None:
        urls.append(request.url)

    page.on("request", note)
    yield urls
    page.remove_listener("request", note)


def _outside(urls: list[str], base_url: str) -> list[str]:
    return sorted({url for url in urls if not (url.startswith(f"{base_url}/") or url == base_url)})


def test_the_sign_in_page_asks_no_other_host(page: Page, base_url: str, requested: list[str]) -> None:
    page.goto(f"{base_url}/sign-in")
    page.wait_for_load_state("networkidle")
    assert requested, "the browser saw no requests at all"
    assert _outside(requested, base_url) == []


@pytest.mark.parametrize(("label", "paths"), ROLE_PAGES, ids=[label for label, _ in ROLE_PAGES])
def test_main_pages_ask_no_other_host(
    page: Page, base_url: str, requested: list[str], label: str, paths: list[str]
) -> None:
    sign_in(page, base_url, label)
    name = "home-" + label.lower().replace(" ", "-")
    expect(page.get_by_test_id("role-pages")).to_be_visible()
    check_accessibility(page, name)
    for path in paths:
        response = page.goto(f"{base_url}{path}")
        assert response is not None and response.status in (200, 503), (path, response and response.status)
        page.wait_for_load_state("networkidle")
    if label == "Resident":
        page.goto(f"{base_url}/")
        page.get_by_role("link", name="View your record").click()
        page.wait_for_load_state("networkidle")
    stylesheets = [url for url in requested if url.endswith(".css")]
    assert stylesheets, "no stylesheet was requested: the check would prove nothing"
    assert _outside(requested, base_url) == []


def test_the_page_font_is_a_local_one(page: Page, base_url: str) -> None:
    """With no web font fetched, text is drawn in a font the machine has, and no font face is left loading."""
    sign_in(page, base_url, "GP")
    page.wait_for_load_state("networkidle")
    status = page.evaluate("async () => { await document.fonts.ready; return document.fonts.status }")
    assert status == "loaded"
    remote_faces = page.evaluate("() => [...document.fonts].filter(f => f.status === 'error').length")
    assert remote_faces == 0
    body_font = page.evaluate("() => getComputedStyle(document.body).fontFamily")
    assert "system-ui" in body_font and body_font.rstrip().endswith("sans-serif")
