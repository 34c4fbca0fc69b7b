"""Each role's home page and menu link the pages that exist for it, and only those: checked against the pages' own
refusals by opening every page as every demo role."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from joinedup.web.demo_users import ROLES
from joinedup.web.role_pages import PAGES, pages_for

from .conftest import sign_in_as

DEMO_ROLES = [demo.role for demo in ROLES]
SIGN_IN_ROLE = {"district-nurse": "nurse"}  # the demo user's key → the catalogue role it signs in with
REFUSED = 403


def _links(html: str, testid: str) -> set[str]:
    section = html.split(f'data-testid="{testid}"', 1)
    if len(section) == 1:
        return set()
    body = section[1].split("</section>", 1)[0]
    return set(re.findall(r'href="([^"]+)"', body))


def _menu(html: str) -> set[str]:
    menu = html.split('aria-label="Menu"', 1)[1].split("</nav>", 1)[0]
    return set(re.findall(r'href="([^"]+)"', menu)) - {"/", "/search"}


def test_every_role_page_is_held_by_some_role() -> None:
    held = {page.href for role in DEMO_ROLES for page in pages_for(SIGN_IN_ROLE.get(role, role))}
    assert held == {page.href for page in PAGES}


@pytest.mark.parametrize("demo_role", DEMO_ROLES)
def test_home_and_menu_link_exactly_the_pages_the_role_may_open(web: TestClient, demo_role: str) -> None:
    sign_in_as(web, demo_role)
    home = web.get("/")
    assert home.status_code == 200
    expected = {page.href for page in pages_for(SIGN_IN_ROLE.get(demo_role, demo_role))}
    assert _links(home.text, "role-pages") == expected
    assert _menu(home.text) == expected
    for page in PAGES:
        status = web.get(page.href).status_code
        if page.href in expected:
            # the population pages answer 503 until the population refresh has run: allowed, not refused
            assert status in (200, 503) if page.href == "/population" else status == 200, (page.href, status)
        else:
            assert status == REFUSED, (page.href, status)


def test_what_exists_is_not_said_to_be_coming(web: TestClient) -> None:
    for demo_role in DEMO_ROLES:
        sign_in_as(web, demo_role)
        page = web.get("/").text
        assert "arrive with information governance" not in page, demo_role
        assert "who has looked at your record arrive" not in page.lower(), demo_role


def test_ig_manager_home_is_the_console(web: TestClient) -> None:
    sign_in_as(web, "ig-manager")
    page = web.get("/").text
    assert "What you can do here" in page
    for title in ("Break-glass reviews", "Unusual access", "Subject access requests"):
        assert title in page
    assert "Record links to review" not in page and "Population health" not in page


def test_resident_home_links_their_access_log_and_nothing_for_staff(web: TestClient) -> None:
    sign_in_as(web, "resident")
    page = web.get("/").text
    assert _links(page, "role-pages") == {"/my-access-log"}
    assert "Who has looked at your record" in page
    assert web.get("/my-access-log").status_code == 200


def test_staff_lists_come_before_their_other_pages(web: TestClient) -> None:
    sign_in_as(web, "gp")
    page = web.get("/").text
    assert page.index("Registered patients") < page.index("Also for your role")
