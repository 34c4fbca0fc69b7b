"""The IG console's pages in a real browser with axe-core (WCAG 2.2 A and AA): unusual access, the audit entries
behind a finding, and the subject access request form with its error. Uses the browser tests' server and
Chromium (conftest.py), in their worker: a second Playwright in one process fails ("Sync API inside the asyncio
loop"), which is what happened when this test lived in tests/access with its own copies of the fixtures."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import check_accessibility
from .test_journey import sign_in

pytestmark = pytest.mark.xdist_group("browser")


def test_ig_console_pages_are_accessible(page: Page, base_url: str) -> None:
    sign_in(page, base_url, "IG manager")
    page.goto(f"{base_url}/ig/unusual-access")
    expect(page.get_by_role("heading", name="Unusual access", exact=True)).to_be_visible()
    check_accessibility(page, "ig-unusual-access")
    page.goto(f"{base_url}/ig/audit?seq=1&seq=2")
    expect(page.get_by_role("heading", name="Audit entries")).to_be_visible()
    check_accessibility(page, "ig-audit-entries")
    page.goto(f"{base_url}/ig/subject-access")
    check_accessibility(page, "ig-subject-access")
    page.get_by_label(re.compile("record identifier")).fill("nobody-here")
    page.get_by_role("button", name="Download the bundle").click()
    expect(page.get_by_text("There is no record with this identifier")).to_be_visible()
    check_accessibility(page, "ig-subject-access-error")
