"""A gate on the small test place (tests/web/place.py), on both databases, and the callers the referral tests act as:
the GP (registers people 1-3, 5-7), the community trust's district nurse (role-zrn-1, in team svc-zrn), its SPA nurse
(role-zrn-2, in svc-spa), its team manager (role-zrn-3, in svc-zrn), the mental health practitioner (team svc-zrt,
no relationship with anyone in the place) and a social worker (another organisation's team)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from joinedup.access.context import AccessContext
from joinedup.access.gate import AccessGate
from joinedup.access.handle import CallerHandle
from joinedup.care.referrals.model import NewReferral, Referral
from joinedup.care.referrals.service import open_referral
from joinedup.store.fhir_store import FhirStore

from ...web import place


def staff(org: place.Org, role: str, number: int = 1) -> AccessContext:
    return AccessContext(
        user=f"PractitionerRole/role-{org.code.lower()}-{number}", role=role, organisation=f"Organization/{org.id}"
    )


GP = staff(place.PRACTICE, "gp")
OTHER_GP = staff(place.OTHER_PRACTICE, "gp")
NURSE = staff(place.COMMUNITY, "nurse")  # team svc-zrn
SPA_NURSE = staff(place.COMMUNITY, "spa-triage", 2)  # team svc-spa, the same organisation as svc-zrn
MANAGER = staff(place.COMMUNITY, "team-manager", 3)  # team svc-zrn
MENTAL_HEALTH = staff(place.MENTAL_HEALTH, "mental-health-practitioner")  # team svc-zrt
MENTAL_HEALTH_2 = staff(place.MENTAL_HEALTH, "mental-health-practitioner", 2)
SOCIAL_WORKER = staff(place.COUNCIL, "social-worker")  # team svc-z510
ANALYST = AccessContext(user="PractitionerRole/role-zq01-9", role="analyst", organisation="Organization/org-zq01")

PATIENT = "pat-1"  # registered at the GP's practice
SENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def gate(store: FhirStore) -> Iterator[AccessGate]:
    place.load(store, place.place(people=4, entries=2))
    yield AccessGate(store)


def refer(gate: AccessGate, service: str = "svc-zrn", urgency: str = "72-hours", patient: str = PATIENT) -> Referral:
    """The GP refers the person to a team."""
    new = NewReferral(
        patient=f"Patient/{patient}",
        service=f"HealthcareService/{service}",
        what="Leg ulcer dressings",
        reason="Venous leg ulcer, not healing",
        urgency=urgency,
        requester=GP.user,
        note="Lives alone; key safe 1234",
    )
    return open_referral(gate.for_caller(GP), new, now=SENT)


def as_(gate: AccessGate, who: AccessContext) -> CallerHandle:
    return gate.for_caller(who)
