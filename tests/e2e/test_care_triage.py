"""The single point of access in a real browser, end to end: the SPA triage nurse takes a phone call about a
person found by person search, finds it in the queue, refers it on to the community nursing team, and raises a
vulnerable person flag; the district nurse sees the referral on the person's record, and the GP sees the flag with
its review date. axe-core at desktop width and at 320 px on every page of the flow."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ..web import place
from .conftest import check_accessibility
from .test_journey import sign_in

pytestmark = pytest.mark.xdist_group("browser")
WHO = place.person(5)
NAME = f"{WHO.given} {WHO.family}"
DESKTOP = {"width": 1280, "height": 900}
NARROW = {"width": 320, "height": 800}


def both_widths(page: Page, name: str) -> None:
    check_accessibility(page, f"care-triage-{name}-desktop")
    page.set_viewport_size(NARROW)
    check_accessibility(page, f"care-triage-{name}-320")
    page.set_viewport_size(DESKTOP)


def switch_to(page: Page, base_url: str, label: str) -> None:
    page.context.clear_cookies()
    sign_in(page, base_url, label)


def test_a_phone_contact_is_triaged_referred_on_and_flagged(page: Page, base_url: str) -> None:
    sign_in(page, base_url, "SPA triage")
    page.locator("main").get_by_role("link", name="Take a contact").first.click()
    expect(page.get_by_role("heading", name="Take a contact")).to_be_visible()
    both_widths(page, "intake")

    page.get_by_label("NHS number").fill(WHO.nhs_number)
    page.get_by_role("button", name="Find the person").click()
    page.get_by_role("radio", name=re.compile(f"^{NAME}, born")).check()
    page.get_by_role("radio", name="Phone", exact=True).check()
    page.get_by_role("radio", name="A carer or relative").check()
    page.get_by_role("radio", name=re.compile("^Same day")).check()
    page.get_by_label("Who called (name and role, optional)").fill("Her son, Daniel")
    page.get_by_label("What is the contact about?").fill("Fallen twice this week, leg wound not healing")
    both_widths(page, "intake-found")
    page.get_by_role("button", name="Save the contact").click()
    expect(page.get_by_role("heading", name=f"Contact about {NAME}")).to_be_visible()

    page.goto(f"{base_url}/spa")
    expect(page.get_by_role("heading", name="Triage queue")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=NAME)
    expect(row).to_contain_text("Same day")
    both_widths(page, "queue")
    row.get_by_role("link", name=NAME).click()
    both_widths(page, "contact")

    page.get_by_role("radio", name="Referred on to a service").check()
    page.get_by_label("Service to refer on to (if referred on)").select_option(label=f"{place.COMMUNITY.name} team")
    page.get_by_label("What is asked of the service (if referred)").fill("District nursing visit today: leg wound")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("Referred on to a service")).to_be_visible()

    page.get_by_label("Why the person is vulnerable, and what partners should do").fill(
        "Lives alone and has fallen twice: call her son before visiting"
    )
    page.get_by_role("button", name="Raise a vulnerable person flag").click()
    expect(page.get_by_text("The flag is on the person's record.")).to_be_visible()
    both_widths(page, "decided")

    page.goto(f"{base_url}/spa/measures")
    expect(page.get_by_role("img", name="Contacts by route, per month")).to_be_visible()
    both_widths(page, "measures")

    switch_to(page, base_url, "District nurse")
    page.goto(f"{base_url}/record/{WHO.patient_id}")
    # on the record's open referrals, to the community trust's team (the referral Task is there with it too)
    expect(
        page.get_by_text(re.compile("^District nursing visit today: leg wound – To Saltmoor Community"))
    ).to_be_visible()

    switch_to(page, base_url, "GP")
    page.goto(f"{base_url}/record/{WHO.patient_id}")
    callout = page.locator("#vulnerable-person")
    expect(callout).to_contain_text("Lives alone and has fallen twice: call her son before visiting")
    expect(callout).to_contain_text("Review by")
    both_widths(page, "record-flag")
