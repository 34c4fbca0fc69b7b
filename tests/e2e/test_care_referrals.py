"""A referral end to end in Chromium, as each demo user: the GP refers from the person's record to the community
nursing team; the district nurse sees it in the team's work list and accepts it; the team manager allocates it to the
nurse; the nurse records the first contact and the outcome; the GP sees every step on the referral and on the record.
axe-core finds nothing on any page, at desktop width and at 320 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ..web import place
from .conftest import check_accessibility
from .test_journey import sign_in

pytestmark = pytest.mark.xdist_group("browser")
WHO = place.person(5)  # registered at the GP demo user's practice
TEAM = "Saltmoor Community Health Services team"


def _as(page: Page, base_url: str, label: str) -> None:
    page.context.clear_cookies()
    sign_in(page, base_url, label)


def _both_widths(page: Page, name: str) -> None:
    check_accessibility(page, name)
    page.set_viewport_size({"width": 320, "height": 800})
    try:
        check_accessibility(page, f"{name}-320")
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


def _open_from_work_list(page: Page) -> None:
    page.locator("main").get_by_role("link", name="Referrals to my team").first.click()
    expect(page.get_by_role("heading", name="Referrals to my team")).to_be_visible()
    page.get_by_role("link", name=f"{WHO.given} {WHO.family}").first.click()
    expect(page.get_by_role("heading", name="Dressings for a leg ulcer")).to_be_visible()


def test_refer_accept_allocate_first_contact_complete(page: Page, base_url: str) -> None:
    _as(page, base_url, "GP")
    page.goto(f"{base_url}/record/{WHO.patient_id}")
    page.get_by_role("button", name="Refer to a service").click()
    expect(page.get_by_role("heading", name="Refer to a service")).to_be_visible()
    _both_widths(page, "referrals-01-refer")

    page.get_by_role("button", name="Send the referral").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose a service from the list")
    _both_widths(page, "referrals-02-refer-errors")

    page.get_by_label("Service", exact=True).select_option(label=TEAM)
    page.get_by_label("What are you asking the service to do?").fill("Dressings for a leg ulcer")
    page.get_by_label("Why are you referring?").fill("Venous leg ulcer on the left shin, not healing")
    page.get_by_label("Within 72 hours").check()
    page.get_by_label("Anything else the service should know (optional)").fill("Key safe by the back door")
    page.get_by_role("button", name="Send the referral").click()
    expect(page.get_by_test_id("referral-step")).to_contain_text("Sent")
    _both_widths(page, "referrals-03-sent")

    _as(page, base_url, "District nurse")
    page.locator("main").get_by_role("link", name="Referrals to my team").first.click()
    expect(page.get_by_role("heading", name="Referrals to my team")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("Unallocated")
    _both_widths(page, "referrals-04-work-list")
    page.get_by_role("link", name=f"{WHO.given} {WHO.family}").first.click()
    expect(page.get_by_role("heading", name="Dressings for a leg ulcer")).to_be_visible()
    _both_widths(page, "referrals-05-received")
    page.get_by_test_id("action-accept").get_by_label("Note for the referral (optional)").fill("Visiting Thursday")
    page.get_by_role("button", name="Accept the referral").click()
    expect(page.get_by_test_id("referral-step")).to_contain_text("Accepted")

    _as(page, base_url, "Team manager")
    _open_from_work_list(page)
    page.get_by_label("Member of the team").select_option(value="PractitionerRole/role-zrn-1")
    page.get_by_role("button", name="Allocate to a named worker").click()
    expect(page.get_by_test_id("referral-step")).to_contain_text("Allocated to a named worker")
    _both_widths(page, "referrals-06-allocated")

    _as(page, base_url, "District nurse")
    _open_from_work_list(page)
    page.get_by_role("button", name="Record the first contact").click()
    expect(page.get_by_test_id("referral-step")).to_contain_text("First contact made")
    page.get_by_role("button", name="Record the outcome and complete").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter the outcome")
    _both_widths(page, "referrals-07-outcome-error")
    page.get_by_label("Outcome").fill("Ulcer healed after six weeks of compression; discharged")
    page.get_by_role("button", name="Record the outcome and complete").click()
    expect(page.get_by_test_id("referral-step")).to_contain_text("Completed")

    _as(page, base_url, "GP")
    page.locator("main").get_by_role("link", name="Referrals I sent").first.click()
    expect(page.get_by_role("heading", name="Referrals I sent")).to_be_visible()
    _both_widths(page, "referrals-08-sent-list")
    page.get_by_role("link", name=f"{WHO.given} {WHO.family}").first.click()
    timeline = page.get_by_test_id("referral-timeline")
    for step in ("Sent", "Accepted", "Allocated to a named worker", "First contact made", "Completed"):
        expect(timeline).to_contain_text(step)
    expect(timeline).to_contain_text("Visiting Thursday")
    expect(timeline).to_contain_text(re.compile("Outcome: Ulcer healed"))
    _both_widths(page, "referrals-09-every-step")
    page.get_by_role("link", name=f"{WHO.given} {WHO.family}").first.click()
    expect(page.get_by_test_id("record-referrals")).to_contain_text("Completed")
