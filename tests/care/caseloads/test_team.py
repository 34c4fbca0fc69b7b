"""The team manager's view and moves (care/caseloads/team.py) on both databases: each worker's load, the team's
people, and a move that lands — and each refusal, which changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from joinedup.access.context import AccessContext
from joinedup.access.gate import AccessGate
from joinedup.access.handle import CallerHandle
from joinedup.care.caseloads import service
from joinedup.care.caseloads.team import move, team_view
from joinedup.fhir.errors import Conflict, FhirError, Forbidden, InvalidRequest, NotFound
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


def as_user(
    gate: AccessGate, user: str, role: str, org: place.Org = place.COMMUNITY
) -> tuple[CallerHandle, service.Me]:
    caller = gate.for_caller(AccessContext(user=user, role=role, organisation=f"Organization/{org.id}"))
    return caller, service.me(caller, user, f"Organization/{org.id}")


def manager(gate: AccessGate) -> tuple[CallerHandle, service.Me]:
    return as_user(gate, work.MANAGER, "team-manager")


def stored(gate: AccessGate, resource_type: str, resource_id: str) -> tuple[int, dict[str, object]]:
    found = gate.for_system("test").read(resource_type, resource_id)
    return found.version_id, found.content or {}


def test_the_team_view_counts_each_workers_load(gate: AccessGate) -> None:
    view = team_view(*manager(gate), work.NOW)
    assert sorted(view.team.services) == [work.TEAM]
    loads = {load.member.role: (load.episodes, load.tasks, load.overdue) for load in view.loads}
    assert loads == {work.NURSE: (2, 3, 1), work.MANAGER: (1, 0, 0), work.FOURTH: (0, 0, 0)}
    people = {row.patient_id for row in view.people.rows}
    assert people == {"pat-1", "pat-2", "pat-3", "pat-4"}  # person 1's two records are one row
    assert view.people.rows[0].overdue  # what needs doing first
    assert [row.patient_id for row in view.unallocated.rows] == ["pat-3"]
    assert view.names[work.NURSE] and view.names["Practitioner/prac-zrn-1"] == view.names[work.NURSE]


def test_a_move_gives_the_person_to_the_new_worker(gate: AccessGate) -> None:
    version, _ = stored(gate, "EpisodeOfCare", "ep-nurse-1")
    move(*manager(gate), "EpisodeOfCare", "ep-nurse-1", version, work.FOURTH, work.NOW)
    after, episode = stored(gate, "EpisodeOfCare", "ep-nurse-1")
    assert after == version + 1 and episode["careManager"] == {"reference": work.FOURTH, "display": "Nadia Abbott"}
    caller, me = as_user(gate, work.FOURTH, "nurse")
    assert [row.patient_id for row in service.my_caseload(caller, me).rows] == ["pat-1"]


def test_a_task_moves_and_an_unallocated_episode_is_allocated(gate: AccessGate) -> None:
    version, _ = stored(gate, "Task", "t-huddle")
    move(*manager(gate), "Task", "t-huddle", version, work.FOURTH, work.NOW)
    _, task = stored(gate, "Task", "t-huddle")
    assert task["owner"]["reference"] == work.FOURTH and task["lastModified"] == work.instant(work.NOW)
    version, _ = stored(gate, "EpisodeOfCare", "ep-unallocated")
    move(*manager(gate), "EpisodeOfCare", "ep-unallocated", version, work.NURSE, work.NOW)
    assert stored(gate, "EpisodeOfCare", "ep-unallocated")[1]["careManager"]["reference"] == work.NURSE


REFUSALS = [
    # (what, resource, the worker it goes to, version offset, the caller's role, the error)
    ("a worker outside the team", ("EpisodeOfCare", "ep-nurse-1"), work.SOCIAL_WORKER, 0, "team-manager",
     InvalidRequest),
    ("another team's episode", ("EpisodeOfCare", "ep-council"), work.FOURTH, 0, "team-manager", Forbidden),
    ("another team's task", ("Task", "t-spa"), work.FOURTH, 0, "team-manager", Forbidden),
    ("a stale form", ("EpisodeOfCare", "ep-nurse-1"), work.FOURTH, -1, "team-manager", Conflict),
    ("closed work", ("EpisodeOfCare", "ep-nurse-old"), work.FOURTH, 0, "team-manager", Conflict),
    ("a role without caseload.allocate", ("EpisodeOfCare", "ep-nurse-1"), work.FOURTH, 0, "nurse", Forbidden),
    ("the worker who holds it already", ("EpisodeOfCare", "ep-nurse-1"), work.NURSE, 0, "team-manager",
     InvalidRequest),
    ("a resource that is not work", ("Patient", "pat-1"), work.FOURTH, 0, "team-manager", InvalidRequest),
]  # fmt: skip


@pytest.mark.parametrize(("what", "target", "to", "offset", "role", "error"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_each_refusal_changes_nothing(
    gate: AccessGate, what: str, target: tuple[str, str], to: str, offset: int, role: str, error: type[FhirError]
) -> None:
    version, before = stored(gate, *target)
    caller, me = as_user(gate, work.MANAGER, role)
    with pytest.raises(error) as refused:
        move(caller, me, *target, version + offset, to, work.NOW)
    assert refused.value.message, what
    assert stored(gate, *target) == (version, before)


def test_work_the_manager_may_not_see_is_not_found(gate: AccessGate) -> None:
    """An episode nobody in the manager's organisation is related to: not found, as the gate answers (0301)."""
    version, before = stored(gate, "EpisodeOfCare", "ep-hidden")
    caller, me = as_user(gate, "PractitionerRole/role-zvs01-1", "team-manager", place.VOLUNTARY)
    with pytest.raises(NotFound):
        move(caller, me, "EpisodeOfCare", "ep-hidden", version, "PractitionerRole/role-zvs01-2", work.NOW)
    assert stored(gate, "EpisodeOfCare", "ep-hidden") == (version, before)
