"""A professional's journey in a real browser: sign in, find a person, open the record, filter the timeline, see
the withheld-information notice, load older entries, sign out — with axe-core on every page and screenshots kept
under test-artifacts/e2e/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from joinedup.fhir.nhs_number import format_3_3_4

from ..web import place
from .conftest import BIG_PERSON, check_accessibility

pytestmark = pytest.mark.xdist_group("browser")
WHO = place.person(1)


def sign_in(page: Page, base_url: str, label: str) -> None:
    page.goto(f"{base_url}/")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=/$"))
    page.get_by_label(re.compile(f"^{re.escape(label)} – ")).check()
    page.get_by_role("button", name="Continue as this demo user").click()
    expect(page.get_by_test_id("signed-in-role")).to_contain_text(label)


def test_sign_in_find_open_filter_and_sign_out(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/sign-in")
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Or, in development, who do you want to sign in as?")).to_be_visible()
    check_accessibility(page, "01-sign-in")

    sign_in(page, base_url, "GP")
    expect(page.get_by_test_id("signed-in-role")).to_contain_text("GP, Riverside Surgery")
    expect(page.get_by_role("heading", name="Registered patients")).to_be_visible()
    check_accessibility(page, "02-home-gp")

    page.get_by_role("link", name="Find a person").first.click()
    page.get_by_label("NHS number").fill(format_3_3_4(WHO.nhs_number))
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="1 person found")).to_be_visible()
    expect(page.get_by_role("cell", name=format_3_3_4(WHO.nhs_number))).to_be_visible()
    check_accessibility(page, "03-search-results")

    page.get_by_role("link", name=f"{WHO.given} {WHO.family}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{WHO.given} {WHO.family}")
    expect(page.get_by_test_id("withheld-notice")).to_contain_text("Some information is withheld")
    expect(page.locator(".ju-banner")).to_contain_text("Lives alone: key safe at front door")
    check_accessibility(page, "04-record")

    page.get_by_label("Organisation", exact=True).select_option(label=place.ACUTE.name)
    page.get_by_role("button", name="Filter timeline").click()
    expect(page.get_by_test_id("timeline-count")).to_contain_text("matching the filters")
    expect(page).to_have_url(re.compile(f"organisation={place.ACUTE.code}"))
    sources = page.locator("#timeline-results .ju-source").all_inner_texts()
    assert sources and all(s == f"From {place.ACUTE.name}" for s in sources)
    check_accessibility(page, "05-record-filtered")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out")).to_be_visible()
    check_accessibility(page, "06-signed-out")
    page.goto(f"{base_url}/record/{WHO.patient_id}")
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))


def test_older_entries_load_in_place(page: Page, base_url: str) -> None:
    sign_in(page, base_url, "District nurse")
    page.goto(f"{base_url}/record/{BIG_PERSON.patient_id}")
    entries = page.locator("#timeline-results .ju-timeline > li")
    expect(entries).to_have_count(50)
    page.get_by_role("link", name="Older entries").click()
    expect(entries).to_have_count(100)
    expect(page).to_have_url(re.compile(f"/record/{BIG_PERSON.patient_id}$"))
    check_accessibility(page, "07-record-more-entries")


def test_search_errors_are_accessible(page: Page, base_url: str) -> None:
    sign_in(page, base_url, "Social worker")
    page.goto(f"{base_url}/search")
    page.get_by_label("NHS number").fill("123")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter a valid 10-digit NHS number")
    check_accessibility(page, "08-search-error")


@pytest.mark.parametrize(
    "label", ["Social worker", "SPA triage", "Care home staff", "IG manager", "Resident", "MDG coordinator"]
)
def test_each_role_home_is_accessible(page: Page, base_url: str, label: str) -> None:
    sign_in(page, base_url, label)
    check_accessibility(page, f"09-home-{label.lower().replace(' ', '-')}")


def test_reading_works_without_javascript(page_without_javascript: Page, base_url: str) -> None:
    page = page_without_javascript
    sign_in(page, base_url, "GP")
    page.goto(f"{base_url}/record/{BIG_PERSON.patient_id}")
    expect(page.locator(".ju-timeline > li")).to_have_count(50)
    page.get_by_role("link", name="Older entries").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.get_by_test_id("timeline-count")).to_contain_text("Showing entries 51 to 100")
    page.get_by_label("Kind", exact=True).select_option("Problem")
    page.get_by_role("button", name="Filter timeline").click()
    expect(page.locator(".ju-timeline > li")).to_have_count(3)
    page.screenshot(path=str(place_artifact("10-record-no-javascript")), full_page=True)


def place_artifact(name: str) -> object:
    from .conftest import ARTIFACTS

    return ARTIFACTS / f"{name}.png"
