"""The work lists (care/caseloads/service.py) on both databases, read through a worker's handle from hand-built
episodes, tasks and residence: what each list holds, its order, one row per person across linked records, and
what is overdue."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from joinedup.access.context import AccessContext
from joinedup.access.gate import AccessGate
from joinedup.access.handle import CallerHandle
from joinedup.care.caseloads import service
from joinedup.care.caseloads.model import WorkList, short_date
from joinedup.care.caseloads.registered import registered_list
from joinedup.store.engine import make_engine
from joinedup.store.fhir_store import FhirStore

from ...web import place
from . import work


@pytest.fixture
def gate(database_url: str) -> Iterator[AccessGate]:
    store = FhirStore(make_engine(database_url))
    place.load(store, place.place(people=6, entries=3))
    work.load(store)
    yield AccessGate(store)
    store.engine.dispose()


def caller(gate: AccessGate, user: str, role: str, org: place.Org) -> CallerHandle:
    return gate.for_caller(AccessContext(user=user, role=role, organisation=f"Organization/{org.id}"))


def nurse(gate: AccessGate) -> CallerHandle:
    return caller(gate, work.NURSE, "nurse", place.COMMUNITY)


def people(found: WorkList) -> list[str]:
    return [row.patient_id for row in found.rows]


def keys(found: WorkList) -> list[list[str]]:
    return [[item.key for item in row.items] for row in found.rows]


def test_the_worker_is_their_role_their_practitioner_and_their_team(gate: AccessGate) -> None:
    me = service.me(nurse(gate), work.NURSE, work.COMMUNITY)
    assert me.refs == (work.NURSE, "Practitioner/prac-zrn-1")
    assert me.teams == (work.TEAM,)
    assert me.owners_of_unallocated == (work.TEAM, work.COMMUNITY)


def test_a_worker_in_no_team_stands_for_their_organisations_teams(gate: AccessGate) -> None:
    handle = caller(gate, "PractitionerRole/nobody", "nurse", place.COMMUNITY)
    me = service.me(handle, "PractitionerRole/nobody", work.COMMUNITY)
    assert set(me.teams) == {work.TEAM, "HealthcareService/svc-spa"}


def test_the_home_lists_hold_the_workers_work_in_order(gate: AccessGate) -> None:
    handle = nurse(gate)
    found = service.home_work(handle, service.me(handle, work.NURSE, work.COMMUNITY), work.NOW)
    # overdue first: mine and my team's, the most overdue first; each task shows once on the page
    assert keys(found.overdue) == [["Task/t-team-late"], ["Task/t-overdue"]]
    assert all(item.overdue for row in found.overdue.rows for item in row.items)
    # my tasks: open, owned by me, soonest due first; the completed one is not there
    assert keys(found.my_tasks) == [["Task/t-triage"], ["Task/t-huddle"]]
    # the team's: its open task (not the SPA's) and the organisation's episode with no care manager
    assert keys(found.team_unallocated) == [["Task/t-team"], ["EpisodeOfCare/ep-unallocated"]]
    # my caseload: person 1's two records (linked by the person index) are one row; the finished one is gone
    assert people(found.my_caseload) == ["pat-1"]
    assert sorted(keys(found.my_caseload)[0]) == ["EpisodeOfCare/ep-nurse-1", "EpisodeOfCare/ep-nurse-1b"]
    assert {r["id"] for r in found.my_caseload.rows[0].records} == {"pat-1", work.SECOND_RECORD}
    # referrals I sent: the open one and the one closed three days ago, not the one closed a month ago
    assert sorted(k for row in keys(found.referrals_sent) for k in row) == ["Task/t-sent", "Task/t-sent-recent"]


def test_each_kind_of_task_links_to_where_it_is_acted_on(gate: AccessGate) -> None:
    handle = nurse(gate)
    found = service.home_work(handle, service.me(handle, work.NURSE, work.COMMUNITY), work.NOW)
    items = {i.key: i for lst in (found.overdue, found.my_tasks) for row in lst.rows for i in row.items}
    assert items["Task/t-overdue"].href == "/referrals/t-overdue"
    assert items["Task/t-triage"].href == "/spa/contacts/t-triage"
    assert items["Task/t-huddle"].href == "/record/pat-3"
    assert items["Task/t-overdue"].kind == "referral" and items["Task/t-triage"].kind == "triage"
    assert items["Task/t-overdue"].due_text == short_date(work.NOW - timedelta(days=1))


def test_another_worker_sees_none_of_the_nurses_own_work(gate: AccessGate) -> None:
    handle = caller(gate, work.FOURTH, "nurse", place.COMMUNITY)
    found = service.home_work(handle, service.me(handle, work.FOURTH, work.COMMUNITY), work.NOW)
    assert found.my_tasks.rows == [] and found.my_caseload.rows == [] and found.referrals_sent.rows == []
    assert keys(found.team_unallocated) == [["Task/t-team"], ["EpisodeOfCare/ep-unallocated"]]  # the same team


def test_a_care_homes_residents_are_those_living_there_now(gate: AccessGate) -> None:
    home = caller(gate, "Location/loc-vm101", "care-home-staff", place.CARE_HOME)
    found = service.residents(home, f"Organization/{place.CARE_HOME.id}")
    assert people(found) == ["pat-0"]
    assert found.rows[0].items[0].title == f"Lives at {place.CARE_HOME.name}"
    assert service.residents(nurse(gate), work.COMMUNITY).rows == []  # the community trust has no home


def test_the_registered_list_shows_a_linked_person_once(gate: AccessGate) -> None:
    gp = caller(gate, "PractitionerRole/role-p84001-1", "gp", place.PRACTICE)
    org = f"Organization/{place.PRACTICE.id}"
    page, directory = registered_list(gp, org)
    shown = [row.patient_id for row in page.rows]
    assert shown.count("pat-1") + shown.count(work.SECOND_RECORD) == 1
    person_1 = next(row for row in page.rows if row.patient_id in ("pat-1", work.SECOND_RECORD))
    assert {r["id"] for r in person_1.records} == {"pat-1", work.SECOND_RECORD}
    registered = [f"pat-{i}" for i in range(6) if place.person(i).practice is place.PRACTICE]
    assert sorted(shown) == sorted(registered)
    assert f"Organization/{place.PRACTICE.id}" in directory


def test_the_registered_list_pages_show_each_person_once(gate: AccessGate) -> None:
    gp = caller(gate, "PractitionerRole/role-p84001-1", "gp", place.PRACTICE)
    org = f"Organization/{place.PRACTICE.id}"
    shown: list[str] = []
    offset = 0
    while True:
        page, _ = registered_list(gp, org, offset, size=2)
        shown.extend(row.patient_id for row in page.rows)
        if not page.more:
            break
        offset += 2
    registered = [f"pat-{i}" for i in range(6) if place.person(i).practice is place.PRACTICE]
    assert sorted(shown) == sorted(registered)  # person 1 once (at pat-1), nobody twice, nobody missed
