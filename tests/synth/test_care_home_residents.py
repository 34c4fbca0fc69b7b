"""Care home residents in the synthetic place: an open placement the home performs, so the home's staff have a
legitimate relationship with the people living there (and the demo's care home account has residents to see)."""

from __future__ import annotations

import pytest

from joinedup.access.context import AccessContext
from joinedup.access.gate import AccessGate
from joinedup.fhir.search_request import parse_search
from joinedup.store.bulk_load import Loader
from joinedup.store.engine import make_engine
from joinedup.store.fhir_store import FhirStore
from joinedup.store.migrate import upgrade
from joinedup.synth.generate import PlaceSummary
from joinedup.web.demo_users import demo_users

FEEDS = ("place/Organization", "place/Location", "socialcare/Patient", "socialcare/ServiceRequest",
         "socialcare/EpisodeOfCare")  # fmt: skip


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory, demo_sized_place: PlaceSummary) -> AccessGate:
    folder = tmp_path_factory.mktemp("care-homes")
    url = f"sqlite:///{folder / 'store.sqlite3'}"
    upgrade(url)
    store = FhirStore(make_engine(url))
    Loader(store, workers=1).load([demo_sized_place.out_dir / "feeds" / f"{feed}.ndjson" for feed in FEEDS])
    return AccessGate(store)


def _ids(gate: AccessGate, ctx: AccessContext, resource_type: str, pairs: list[tuple[str, str]]) -> set[str]:
    page = gate.search(ctx, parse_search(resource_type, [*pairs, ("_count", "1000")]))
    return {r["id"] for r in page.matches}


def test_open_placements_name_the_home_and_its_staff_see_exactly_those_residents(gate: AccessGate) -> None:
    system = AccessContext(user="Device/test", role="system", purpose="operations", via="system")
    home_staff = next(u for u in demo_users(gate.for_system("sign-in")) if u.role == "care-home-staff")
    staff = AccessContext(user=home_staff.user, role=home_staff.role, organisation=home_staff.organisation)
    placed = gate.search(
        system,
        parse_search(
            "ServiceRequest", [("status", "active"), ("performer", home_staff.organisation or ""), ("_count", "1000")]
        ),
    )
    residents = {str(r["subject"]["reference"]).removeprefix("Patient/") for r in placed.matches}
    assert residents, "the demo's care home has nobody living there"
    assert _ids(gate, staff, "Patient", []) == residents
