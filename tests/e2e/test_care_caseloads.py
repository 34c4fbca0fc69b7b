"""Caseloads in a real browser: the team manager opens their team's caseload, sees each worker's load, moves a
person from one worker to another, and the new worker's home shows them; a care home's staff see their residents.
axe-core at desktop width and at 320 px on every page."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from ..web import place
from .conftest import check_accessibility

pytestmark = pytest.mark.xdist_group("browser")
MOVED = place.person(7)  # on the fourth worker's caseload until the manager moves them to the district nurse
RESIDENT = place.person(8)  # lives at Larch House
COMMUNITY = f"Organization/{place.COMMUNITY.id}"


def sign_in(page: Page, base_url: str, label: str) -> None:
    page.goto(f"{base_url}/")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=/$"))
    page.get_by_label(re.compile(f"^{re.escape(label)} – ")).check()
    page.get_by_role("button", name="Continue as this demo user").click()
    expect(page.get_by_test_id("signed-in-role")).to_contain_text(label)


def accessible_at_both_widths(page: Page, name: str) -> None:
    check_accessibility(page, f"{name}-desktop")
    page.set_viewport_size({"width": 320, "height": 800})
    try:
        check_accessibility(page, f"{name}-320px")
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


def _put(base_url: str, headers: dict[str, str], resource: dict[str, Any]) -> None:
    url = f"{base_url}/fhir/{resource['resourceType']}/{resource['id']}"
    response = httpx.put(url, json=resource, headers={"Content-Type": "application/fhir+json", **headers})
    assert response.status_code in (200, 201), response.text


def _work_arrives(base_url: str, headers: dict[str, str]) -> None:
    """A fourth nurse in the community nursing team with a person on their caseload, and a care home resident,
    as the community trust's and the home's feeds would send them."""
    for resource in (
        {"resourceType": "Practitioner", "id": "prac-zrn-4", "name": [{"family": "Abbott", "given": ["Nadia"]}]},
        {"resourceType": "PractitionerRole", "id": "role-zrn-4", "active": True,
         "practitioner": {"reference": "Practitioner/prac-zrn-4"}, "organization": {"reference": COMMUNITY},
         "healthcareService": [{"reference": "HealthcareService/svc-zrn"}]},
        {"resourceType": "EpisodeOfCare", "id": "ep-e2e-move", "meta": place.meta(place.COMMUNITY),
         "status": "active", "patient": {"reference": f"Patient/{MOVED.patient_id}"},
         "managingOrganization": {"reference": COMMUNITY}, "type": [{"text": "Community nursing: leg ulcer care"}],
         "careManager": {"reference": "PractitionerRole/role-zrn-4", "display": "Nadia Abbott"},
         "period": {"start": "2026-11-02"}},
        {"resourceType": "Encounter", "id": "enc-e2e-residence", "meta": place.meta(place.CARE_HOME),
         "status": "in-progress", "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                                            "code": "HH", "display": "home health"},
         "type": [{"text": "Care home residence"}], "subject": {"reference": f"Patient/{RESIDENT.patient_id}"},
         "location": [{"location": {"reference": "Location/loc-vm101"}, "status": "active"}],
         "serviceProvider": {"reference": f"Organization/{place.CARE_HOME.id}"}, "period": {"start": "2026-05-01"}},
    ):  # fmt: skip
        _put(base_url, headers, resource)


def test_a_team_manager_moves_a_person_and_the_new_worker_has_them(
    page: Page, base_url: str, system_headers: dict[str, str]
) -> None:
    _work_arrives(base_url, system_headers)
    name = f"{MOVED.given} {MOVED.family}"
    sign_in(page, base_url, "Team manager")
    page.get_by_role("link", name="Your team's caseload").first.click()
    expect(page.get_by_role("heading", name="Your team's caseload", level=1)).to_be_visible()
    load = page.get_by_test_id("team-load")
    expect(load.get_by_role("row", name=re.compile("Nadia Abbott"))).to_contain_text("1")
    expect(load.get_by_role("img", name="Each worker's load")).to_be_visible()
    accessible_at_both_widths(page, "caseloads-01-team")

    item = page.get_by_test_id("team-item").filter(has_text="Community nursing: leg ulcer care")
    expect(item.get_by_test_id("holder")).to_have_text("Nadia Abbott")
    item.get_by_label(re.compile("^Move Community nursing: leg ulcer care to")).select_option(label="Kwame Hussain")
    item.get_by_role("button", name=re.compile("^Move")).click()
    expect(page.get_by_test_id("moved")).to_contain_text("The person was moved to their new worker.")
    moved = page.get_by_test_id("team-item").filter(has_text="Community nursing: leg ulcer care")
    expect(moved.get_by_test_id("holder")).to_have_text("Kwame Hussain")
    accessible_at_both_widths(page, "caseloads-02-moved")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, base_url, "District nurse")
    caseload = page.get_by_test_id("home-my-caseload")
    expect(caseload.get_by_role("link", name=name)).to_be_visible()
    expect(caseload).to_contain_text("Community nursing: leg ulcer care")
    accessible_at_both_widths(page, "caseloads-03-nurse-home")
    caseload.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def test_care_home_staff_see_their_residents(page: Page, base_url: str, system_headers: dict[str, str]) -> None:
    _work_arrives(base_url, system_headers)
    sign_in(page, base_url, "Care home staff")
    residents = page.get_by_test_id("home-residents")
    expect(residents.get_by_role("link", name=f"{RESIDENT.given} {RESIDENT.family}")).to_be_visible()
    expect(residents).to_contain_text("Lives at Larch House Care Home")
    accessible_at_both_widths(page, "caseloads-04-care-home")
