"""MDG huddles in a real browser: the MDG coordinator opens their group (the case-finding list by name), builds an
agenda from it, opens the huddle page (a summary per person), records an action owned by a team with a due date and
another for a member, closes the second, closes the meeting; the next agenda starts from the action still open.
axe-core at desktop width and at 320 px on each page. The place: the web tests' place with two neighbourhoods'
residents and MDGs (tests/care/huddles/neighbourhood.py), refreshed and published as `joinedup population refresh`
does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from joinedup.access.gate import AccessGate
from joinedup.settings import Settings
from joinedup.store.engine import make_engine
from joinedup.store.fhir_store import FhirStore
from joinedup.store.migrate import upgrade

from ..care.huddles import neighbourhood as hood
from ..web import place
from .conftest import check_accessibility, serve
from .test_journey import sign_in

pytestmark = pytest.mark.xdist_group("browser")


@pytest.fixture(scope="module")
def huddle_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("e2e-huddles")
    url = f"sqlite:///{folder / 'place.sqlite3'}"
    upgrade(url)
    store = FhirStore(make_engine(url))
    place.load(store, place.place(people=6, entries=3))
    store.engine.dispose()
    gate = AccessGate.open(url)
    try:
        hood.build(gate)
        population_db = hood.refreshed(gate, folder / "population.duckdb")
        hood.publish(gate, population_db)
    finally:
        gate.close()
    yield from serve(lambda base: Settings(database_url=url, environment="test", export_dir=folder / "exports",
                                          base_url=base, population_db=population_db,
                                          served_on_loopback=True))  # fmt: skip


def _axe_both_widths(page: Page, name: str) -> None:
    check_accessibility(page, f"{name}-desktop")
    page.set_viewport_size({"width": 320, "height": 900})
    check_accessibility(page, f"{name}-320")
    page.set_viewport_size({"width": 1280, "height": 900})


def _record(page: Page, who: str, what: str, owner: str, due: str) -> None:
    person = page.get_by_role("region", name=who)
    person.get_by_text(f"Record an action for {who}").click()
    person.get_by_label("What is to be done").fill(what)
    person.get_by_label("Who will do it").select_option(label=owner)
    person.get_by_label("Due by").fill(due)
    person.get_by_role("button", name="Record the action").click()


def test_the_coordinator_runs_a_huddle_and_the_next_starts_from_open_actions(page: Page, huddle_url: str) -> None:
    sign_in(page, huddle_url, "MDG coordinator")
    page.get_by_role("link", name="Multidisciplinary group huddles").first.click()
    expect(page.get_by_role("heading", name="My multidisciplinary groups")).to_be_visible()
    _axe_both_widths(page, "huddles-01-groups")

    page.get_by_role("link", name="Riverside neighbourhood MDG").click()
    listed = page.get_by_role("table", name="People on the case-finding list")
    expect(listed).to_contain_text("Agnes")
    expect(listed).to_contain_text("Bernard")
    expect(listed).not_to_contain_text("Elsie")  # another neighbourhood's
    _axe_both_widths(page, "huddles-02-group")

    page.get_by_label("Title").fill("Riverside huddle, week 1")
    page.get_by_label("Add people of the neighbourhood's practices with an open referral").uncheck()
    page.get_by_role("button", name="Build the agenda").click()
    expect(page.get_by_role("heading", name="Riverside huddle, week 1", level=1)).to_be_visible()
    agnes = page.get_by_role("region", name="Agnes Whitlock")
    expect(agnes).to_contain_text("Heart failure")
    expect(agnes).to_contain_text("Case-finding list")
    _axe_both_widths(page, "huddles-03-huddle")

    due = (date.today() + timedelta(days=14)).isoformat()
    _record(page, "Agnes Whitlock", "Falls assessment at home", "Team: Saltmoor Community Health Services team", due)
    expect(page.get_by_role("region", name="Agnes Whitlock")).to_contain_text("Falls assessment at home")
    members = page.get_by_role("region", name="Bernard Quayle").get_by_label("Who will do it")
    first_member = str(members.locator("option").first.text_content())
    _record(page, "Bernard Quayle", "Medication review", first_member, due)
    bernard = page.get_by_role("region", name="Bernard Quayle")
    expect(bernard).to_contain_text("Medication review")
    bernard.get_by_role("button", name=re.compile("^Mark as done")).click()
    expect(page.get_by_role("region", name="Bernard Quayle").get_by_text("Done", exact=True)).to_be_visible()
    _axe_both_widths(page, "huddles-04-actions")

    page.get_by_role("button", name="Close the meeting").click()
    expect(page.get_by_test_id("meeting-status")).to_have_text("Closed")
    page.get_by_role("link", name="Riverside neighbourhood MDG").click()
    expect(page.get_by_role("table", name="Actions still open")).to_contain_text("Falls assessment at home")
    expect(page.get_by_role("table", name="Actions still open")).not_to_contain_text("Medication review")

    page.get_by_label("Title").fill("Riverside huddle, week 2")
    page.get_by_label("Add the people on the case-finding list").uncheck()
    page.get_by_label("Add people of the neighbourhood's practices with an open referral").uncheck()
    page.get_by_role("button", name="Build the agenda").click()
    expect(page.get_by_role("heading", name="Riverside huddle, week 2", level=1)).to_be_visible()
    expect(page.get_by_test_id("agenda-person")).to_have_count(1)
    expect(page.get_by_role("region", name="Agnes Whitlock")).to_contain_text("Open action from an earlier meeting")
    expect(page.get_by_test_id("carried-actions")).to_contain_text("Falls assessment at home")
    _axe_both_widths(page, "huddles-05-next-agenda")
