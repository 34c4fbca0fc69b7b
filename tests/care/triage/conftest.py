"""The small test place with what the single point of access's tests add: one of its own teams, a person's
telecare Device and a person nobody has a relationship with yet; handles as the place's staff."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from joinedup.access.context import AccessContext
from joinedup.access.gate import AccessGate
from joinedup.access.handle import CallerHandle
from joinedup.care.install import install_on_gate
from joinedup.store.engine import make_engine
from joinedup.store.fhir_store import FhirStore

from ...web import place
from ...web.conftest import loaded, web  # noqa: F401  (the pages' tests use the web tests' client)

SPA = f"HealthcareService/{place.SPA_SERVICE}"
SPA_TEAM = "HealthcareService/svc-spa-response"
COMMUNITY_TEAM = f"HealthcareService/{place.team_id(place.COMMUNITY)}"
PERSON = place.person(3)
STRANGER = "pat-stranger"  # a Patient no partner has a relationship with
DEVICE = "dev-telecare-3"


def extra_resources() -> list[dict[str, object]]:
    return [
        {
            "resourceType": "HealthcareService",
            "id": "svc-spa-response",
            "meta": place.meta(place.PLACE),
            "active": True,
            "providedBy": place.COMMUNITY.ref,
            "name": "Rapid response (single point of access)",
            "characteristic": [{"text": "spa-team"}],
        },
        {
            "resourceType": "Device",
            "id": DEVICE,
            "meta": place.meta(place.COMMUNITY),
            "status": "active",
            "deviceName": [{"name": "Home telecare alarm", "type": "user-friendly-name"}],
            "patient": {"reference": f"Patient/{PERSON.patient_id}"},
        },
        {
            "resourceType": "Patient",
            "id": STRANGER,
            "meta": place.meta(place.PLACE),
            "name": [{"family": "Stranger", "given": ["Ada"]}],
            "birthDate": "1950-01-01",
        },
    ]


@pytest.fixture
def gate(database_url: str) -> Iterator[AccessGate]:
    store = FhirStore(make_engine(database_url))
    place.load(store, place.place(people=6, entries=3) + extra_resources())
    opened = AccessGate(store)
    install_on_gate(opened)
    yield opened
    store.engine.dispose()


def staff(gate: AccessGate, org: place.Org, number: int, role: str) -> CallerHandle:
    context = AccessContext(user=f"PractitionerRole/role-{org.code.lower()}-{number}", role=role,
                            organisation=f"Organization/{org.id}")  # fmt: skip
    return gate.for_caller(context)


@pytest.fixture
def spa(gate: AccessGate) -> CallerHandle:
    """The spa-triage demo user: the community trust's second nurse, a member of svc-spa."""
    return staff(gate, place.COMMUNITY, 2, "spa-triage")


@pytest.fixture
def nurse(gate: AccessGate) -> CallerHandle:
    return staff(gate, place.COMMUNITY, 1, "nurse")


@pytest.fixture
def gp(gate: AccessGate) -> CallerHandle:
    return staff(gate, place.PRACTICE, 1, "gp")


@pytest.fixture
def manager(gate: AccessGate) -> CallerHandle:
    return staff(gate, place.COMMUNITY, 3, "team-manager")
