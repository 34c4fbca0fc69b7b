"""Each care role's demo user, signed in on a synthetic place, has the work of that role (issue 26: "every role's
home page has realistic work in it"): found through the store as the sign-in page finds them. Loaded from the
work-only place (people and their work, no clinical history), which keeps the load quick."""

from __future__ import annotations

from typing import Any

import pytest

from joinedup.access.context import AccessContext
from joinedup.access.gate import AccessGate
from joinedup.fhir.search_request import parse_search
from joinedup.store.bulk_load import Loader, discover
from joinedup.store.engine import make_engine
from joinedup.store.fhir_store import FhirStore
from joinedup.store.migrate import upgrade
from joinedup.synth.generate import PlaceSummary
from joinedup.web.demo_users import demo_users
from joinedup.web.session import SignedIn

SYSTEM = AccessContext(user="Device/test", role="system", purpose="operations", via="system")


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory, work_only_place: PlaceSummary) -> AccessGate:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo-users') / 'store.sqlite3'}"
    upgrade(url)
    store = FhirStore(make_engine(url))
    report = Loader(store, workers=1).load(discover([work_only_place.out_dir / "feeds"]))
    assert not report.rejected
    return AccessGate(store)


@pytest.fixture(scope="module")
def users(gate: AccessGate) -> dict[str, SignedIn]:
    return {u.role: u for u in demo_users(gate.for_system("sign-in"))}


def _find(gate: AccessGate, resource_type: str, pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return list(gate.search(SYSTEM, parse_search(resource_type, [*pairs, ("_count", "1000")])).matches)


def _role(gate: AccessGate, user: SignedIn) -> dict[str, Any]:
    found = gate.read(SYSTEM, "PractitionerRole", user.user.removeprefix("PractitionerRole/")).content
    assert found is not None
    return found


@pytest.mark.parametrize("role", ["district-nurse", "social-worker", "mental-health-practitioner", "link-worker"])
def test_each_worker_has_a_caseload_and_tasks(gate: AccessGate, users: dict[str, SignedIn], role: str) -> None:
    worker = users[role].user
    # Filtered here rather than searched with care-manager: R4 indexes that parameter for a Practitioner only (the
    # caseloads workstream widens the index to the PractitionerRole the contract names).
    active = _find(gate, "EpisodeOfCare", [("status", "active")])
    caseload = [e for e in active if (e.get("careManager") or {}).get("reference") == worker]
    assert len(caseload) >= 2, f"{role} has {len(caseload)} people on their caseload"
    open_tasks = _find(gate, "Task", [("owner", worker), ("status", "requested,accepted,in-progress,on-hold")])
    assert open_tasks, f"{role} has no open tasks"


def test_the_hospital_doctor_and_the_gp_have_sent_referrals(gate: AccessGate, users: dict[str, SignedIn]) -> None:
    assert _find(gate, "ServiceRequest", [("requester", users["hospital-doctor"].user)])
    assert _find(gate, "Patient", [("general-practitioner", users["gp"].organisation or "")])


def test_the_spa_triage_user_works_at_the_single_point_of_access(gate: AccessGate, users: dict[str, SignedIn]) -> None:
    role = _role(gate, users["spa-triage"])
    spa = "HealthcareService/place-svc-community-spa"
    assert [h["reference"] for h in role["healthcareService"]] == [spa]
    assert _find(gate, "Task", [("owner", spa), ("status", "requested")]), "an open triage queue"


def test_the_team_manager_manages_a_team_of_several(gate: AccessGate, users: dict[str, SignedIn]) -> None:
    role = _role(gate, users["team-manager"])
    assert "team-manager" in {c["code"] for cc in role["code"] for c in cc["coding"]}
    team = role["healthcareService"][0]["reference"]
    assert len(_find(gate, "PractitionerRole", [("service", team)])) >= 3


def test_the_mdg_coordinator_coordinates_an_mdg(gate: AccessGate, users: dict[str, SignedIn]) -> None:
    coordinator = users["mdg-coordinator"]
    groups = _find(gate, "Group", [("member", coordinator.user)])
    assert any(g["managingEntity"]["reference"] == coordinator.organisation for g in groups)
    agendas = _find(gate, "List", [("subject", f"Group/{groups[0]['id']}"), ("status", "current")])
    assert len(agendas) == 2, "the case-finding list and the next huddle's agenda"


def test_the_care_home_has_residents(gate: AccessGate, users: dict[str, SignedIn]) -> None:
    home = users["care-home-staff"].user
    assert home.startswith("Location/")
    assert _find(gate, "Encounter", [("location", home), ("status", "in-progress")])
