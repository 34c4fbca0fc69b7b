"""The IG console's pages in a real browser with axe-core (WCAG 2.2 A and AA): unusual access, the audit entries
behind a finding, and the subject access request form with its error. Uses the browser tests' server and
Chromium (tests/e2e/conftest.py), and skips with their reason where Chromium is absent."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from ..e2e.conftest import base_url, browser_contexts, check_accessibility, page  # noqa: F401  (their fixtures)
from ..e2e.test_journey import sign_in


def test_ig_console_pages_are_accessible(page: Page, base_url: str) -> None:  # noqa: F811
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
