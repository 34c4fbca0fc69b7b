"""A gate on a store holding the small generated place (tests/web/place.py), on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from joinedup.access.context import AccessContext
from joinedup.access.gate import AccessGate
from joinedup.store.fhir_store import FhirStore

from ..web import place
from ..web.conftest import loaded, web  # noqa: F401  (the web pages' fixtures, for the governance pages)


@pytest.fixture
def gate(store: FhirStore) -> Iterator[AccessGate]:
    place.load(store, place.place(people=8, entries=6))
    yield AccessGate(store)


def staff(org: place.Org, role: str, number: int = 1) -> AccessContext:
    """A member of staff of one of the place's organisations, as the demo sign-in makes them."""
    return AccessContext(
        user=f"PractitionerRole/role-{org.code.lower()}-{number}", role=role, organisation=f"Organization/{org.id}"
    )


GP = staff(place.PRACTICE, "gp")  # Riverside: people 1, 2, 3, 5, 6, 7 (index % 4 != 0)
OTHER_GP = staff(place.OTHER_PRACTICE, "gp")  # Hillcrest: people 0, 4
NURSE = staff(place.COMMUNITY, "nurse")  # performer of everyone's falls referral
SOCIAL_WORKER = staff(place.COUNCIL, "social-worker")  # everyone's open episode and task
MENTAL_HEALTH = staff(place.MENTAL_HEALTH, "mental-health-practitioner")  # no relationship in the place
HOSPITAL = staff(place.ACUTE, "hospital-doctor")  # no relationship in the place
