"""Home pages per role and person search, through the gate."""

from __future__ import annotations

from fastapi.testclient import TestClient

from joinedup.fhir.nhs_number import format_3_3_4

from . import place
from .conftest import sign_in_as


def test_gp_home_shows_the_registered_list(web: TestClient) -> None:
    sign_in_as(web, "gp")
    page = web.get("/").text
    assert "Registered patients" in page
    registered = [place.person(i) for i in range(12) if place.person(i).practice is place.PRACTICE]
    for who in registered:
        assert format_3_3_4(who.nhs_number) in page
    other = next(place.person(i) for i in range(12) if place.person(i).practice is place.OTHER_PRACTICE)
    assert format_3_3_4(other.nhs_number) not in page


def test_social_worker_home_shows_their_caseload_and_their_teams_work(web: TestClient) -> None:
    """The place's episodes name the social worker's Practitioner as care manager; its tasks are the council's."""
    sign_in_as(web, "social-worker")
    page = web.get("/").text
    caseload = page.split('data-testid="home-my-caseload"', 1)[1].split("</section>", 1)[0]
    assert "Adult social care: long-term support" in caseload
    assert caseload.count('<tr class="nhsuk-table__row">') == 12  # one row per person
    team = page.split('data-testid="home-team-unallocated"', 1)[1].split("</section>", 1)[0]
    assert "Review care package after hospital discharge" in team
    assert "care coordination" not in page


def test_every_professional_home_lists_its_work_sections(web: TestClient) -> None:
    for role in ("district-nurse", "spa-triage", "hospital-doctor", "link-worker", "team-manager"):
        sign_in_as(web, role)
        page = web.get("/").text
        for title in ("Overdue", "My tasks", "My team&#39;s unallocated work", "My caseload", "Referrals I sent"):
            assert f">{title}" in page, (role, title)
        assert "care coordination" not in page, role


def test_ig_manager_home_says_what_waits_and_care_home_lists_residents(web: TestClient) -> None:
    sign_in_as(web, "ig-manager")
    assert "have no pages of their own yet" in web.get("/").text
    sign_in_as(web, "care-home-staff")
    page = web.get("/").text
    assert ">Residents" in page and "Nobody is recorded as living at your home now." in page
    assert "care coordination" not in page


def test_resident_sees_only_their_own_record(web: TestClient) -> None:
    sign_in_as(web, "resident")
    home = web.get("/").text
    assert "View your record" in home
    assert web.post("/search", data={"nhs_number": "9434765919"}).status_code == 403
    own = home.split('href="/record/')[1].split('"')[0]
    assert web.get(f"/record/{own}").status_code == 200
    other = "pat-5" if own != "pat-5" else "pat-6"
    assert web.get(f"/record/{other}").status_code == 403


def test_search_by_nhs_number_typed_with_spaces(web: TestClient) -> None:
    sign_in_as(web, "gp")
    who = place.person(3)
    page = web.post("/search", data={"nhs_number": format_3_3_4(who.nhs_number)}).text
    assert "1 person found" in page
    assert f"{who.given} {who.family}" in page
    assert format_3_3_4(who.nhs_number) in page
    assert "Mill Lane" in page and who.practice.name in page


def test_search_by_name_and_date_of_birth(web: TestClient) -> None:
    sign_in_as(web, "district-nurse")
    who = place.person(5)
    params = {
        "name": f"{who.given} {who.family}",
        "birth_day": str(who.birth.day),
        "birth_month": str(who.birth.month),
        "birth_year": str(who.birth.year),
    }
    page = web.post("/search", data=params).text
    assert f'href="/record/{who.patient_id}"' in page
    assert page.count('href="/record/') == 1


def test_search_by_local_identifier(web: TestClient) -> None:
    sign_in_as(web, "gp")
    page = web.post("/search", data={"local_id": "L00007"}).text
    assert f'href="/record/{place.person(7).patient_id}"' in page


def test_search_errors_say_what_to_fix(web: TestClient) -> None:
    sign_in_as(web, "gp")
    bad = web.post("/search", data={"nhs_number": "123 456 7890"})
    assert bad.status_code == 400
    assert "Enter a valid 10-digit NHS number" in bad.text
    no_birth = web.post("/search", data={"name": "Ashworth"})
    assert "Enter a real date of birth" in no_birth.text


def test_no_match_says_so(web: TestClient) -> None:
    sign_in_as(web, "gp")
    assert "No one found" in web.post("/search", data={"local_id": "nobody"}).text


def test_search_page_and_empty_search(web: TestClient) -> None:
    sign_in_as(web, "gp")
    assert "Find a person" in web.get("/search").text
    empty = web.post("/search", data={})
    assert empty.status_code == 400
    assert "Enter an NHS number, a name and date of birth, or a local identifier" in empty.text
