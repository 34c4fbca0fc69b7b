"""The pages: each professional's home is their work, one row per person; the team manager's /caseload/team and
POST /caseload/move, with each refusal a clear message on the page and nothing changed."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from joinedup.web.csrf import CSRF_HEADER

from ...web.conftest import csrf_of, sign_in_as
from . import work


def section(page: str, ident: str) -> str:
    return page.split(f'data-testid="home-{ident}"', 1)[1].split("</section>", 1)[0]


def keys_in(html: str) -> list[str]:
    return re.findall(r'data-key="([^"]+)"', html)


def version_in(page: str, resource_type: str, resource_id: str) -> str:
    form = page.split(f'name="resource_id" value="{resource_id}"', 1)[1]
    found = re.search(r'name="version" value="(\d+)"', form)
    assert found and f'value="{resource_type}"' in page
    return found.group(1)


def test_the_nurses_home_is_their_work_in_order(with_work: TestClient) -> None:
    sign_in_as(with_work, "district-nurse")
    page = with_work.get("/").text
    order = [page.index(f'data-testid="home-{s}"') for s in
             ("overdue", "my-tasks", "team-unallocated", "my-caseload", "referrals-sent")]  # fmt: skip
    assert order == sorted(order)
    assert keys_in(section(page, "overdue")) == ["Task/t-team-late", "Task/t-overdue"]
    assert section(page, "overdue").count("Overdue</strong>") == 2
    assert keys_in(section(page, "my-tasks")) == ["Task/t-triage", "Task/t-huddle"]
    caseload = section(page, "my-caseload")
    assert caseload.count('<tr class="nhsuk-table__row">') == 1 and "Records from" in caseload  # 2 records, 1 row
    assert 'href="/referrals/t-overdue"' in page and 'href="/spa/contacts/t-triage"' in page
    assert "care coordination" not in page


def test_the_gp_registered_list_and_the_care_home_residents_are_one_row_per_person(with_work: TestClient) -> None:
    sign_in_as(with_work, "gp")
    registered = section(with_work.get("/").text, "registered")
    assert registered.count(f'href="/record/{work.SECOND_RECORD}"') + registered.count('href="/record/pat-1"') == 1
    sign_in_as(with_work, "care-home-staff")
    residents = section(with_work.get("/").text, "residents")
    assert set(re.findall(r'href="/record/([^"]+)"', residents)) == {"pat-0"}
    assert residents.count('<tr class="nhsuk-table__row">') == 1
    assert "Lives at Larch House Care Home" in residents


def test_the_team_page_shows_each_workers_load_and_the_chart(with_work: TestClient) -> None:
    sign_in_as(with_work, "team-manager")
    page = with_work.get("/caseload/team")
    assert page.status_code == 200
    load = page.text.split('data-testid="team-load"', 1)[1].split("</section>", 1)[0]
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in load and 'role="img"' in load
    assert "Nadia Abbott" in load and "<title" in load
    assert 'data-key="EpisodeOfCare/ep-nurse-1"' in page.text


def test_a_move_lands_and_the_new_worker_has_the_person(with_work: TestClient) -> None:
    sign_in_as(with_work, "team-manager")
    page = with_work.get("/caseload/team").text
    form = {"resource_type": "EpisodeOfCare", "resource_id": "ep-manager", "to": work.NURSE,
            "version": version_in(page, "EpisodeOfCare", "ep-manager"), "csrf": csrf_of(page)}  # fmt: skip
    moved = with_work.post("/caseload/move", data=form, follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == "/caseload/team?moved=EpisodeOfCare"
    assert "The person was moved to their new worker." in with_work.get(moved.headers["location"]).text
    again = with_work.post("/caseload/move", data=form)  # the same form sent twice: stale now
    assert again.status_code == 409 and "Nothing was moved" in again.text
    sign_in_as(with_work, "district-nurse")
    assert "EpisodeOfCare/ep-manager" in keys_in(section(with_work.get("/").text, "my-caseload"))


def test_refusals_say_why_and_change_nothing(with_work: TestClient) -> None:
    sign_in_as(with_work, "team-manager")
    page = with_work.get("/caseload/team").text
    version = version_in(page, "EpisodeOfCare", "ep-nurse-1")
    base = {"resource_type": "EpisodeOfCare", "resource_id": "ep-nurse-1", "version": version, "csrf": csrf_of(page)}
    outsider = with_work.post("/caseload/move", data={**base, "to": work.SOCIAL_WORKER})
    assert outsider.status_code == 400 and "not a member of your team" in outsider.text
    other_team = with_work.post("/caseload/move", data={**base, "resource_id": "ep-council", "to": work.FOURTH})
    assert other_team.status_code == 403 and "another team" in other_team.text
    with_work.headers.pop(CSRF_HEADER)
    forged = with_work.post("/caseload/move", data={**base, "csrf": "forged", "to": work.FOURTH})
    assert forged.status_code == 403
    assert version_in(with_work.get("/caseload/team").text, "EpisodeOfCare", "ep-nurse-1") == version
    sign_in_as(with_work, "district-nurse")
    nurse_page = with_work.get("/caseload/team")
    assert nurse_page.status_code == 403 and "team managers" in nurse_page.text
    refused = with_work.post("/caseload/move", data={**base, "csrf": csrf_of(with_work.get("/").text),
                                                     "to": work.FOURTH})  # fmt: skip
    assert refused.status_code == 403
    sign_in_as(with_work, "team-manager")
    assert version_in(with_work.get("/caseload/team").text, "EpisodeOfCare", "ep-nurse-1") == version
