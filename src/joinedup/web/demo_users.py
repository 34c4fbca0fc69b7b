"""Demo users for the development sign-in: one per role, each a real member of staff (or resident) of the loaded
place, found through the system's sign-in handle (audited as the system) — a GP at a practice, a social worker at
the council, and so on.

Only for development and test deployments served on a loopback address (demo_sign_in_offered; the sign-in routes
refuse otherwise, and `joinedup serve` will not serve those environments anywhere else: decision 0311).
Information governance's sign-in replaces this with accounts; the `SignedIn` it produces stays the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from joinedup.access.gate import AccessGate
from joinedup.access.handle import CallerHandle
from joinedup.fhir.search_request import parse_search
from joinedup.settings import Settings

from .fhir_display import human_name, reference_key
from .session import DEVELOPMENT_ENVIRONMENTS, SignedIn

Resource = dict[str, Any]
CARE_HOME_LOCATION_TYPES = ("285141008", "42665001")  # SNOMED: care home, nursing home


@dataclass(frozen=True)
class DemoRole:
    role: str
    label: str
    staff_codes: tuple[str, ...]  # SNOMED role codes of a PractitionerRole this demo user may be
    pick: int = 0  # which matching member of staff, so that two roles at one organisation are two people
    what: str = ""


ROLES = (
    DemoRole("gp", "GP", ("62247001",), 0, "Registered list, tasks and referrals for the practice"),
    DemoRole("district-nurse", "District nurse", ("224535009", "415075003"), 0, "Caseload and referrals"),
    DemoRole("social-worker", "Social worker", ("106328005",), 0, "Allocated caseload"),
    DemoRole("mental-health-practitioner", "Mental health practitioner", ("80546007", "224546007"), 0, "Caseload"),
    DemoRole("hospital-doctor", "Hospital doctor", ("309343006",), 0, "Person search and records"),
    DemoRole("link-worker", "Social prescribing link worker", ("159033005",), 0, "Caseload"),
    DemoRole("spa-triage", "SPA triage", ("224535009", "415075003"), 1, "Open referrals to triage"),
    DemoRole("mdg-coordinator", "MDG coordinator", ("62247001",), 1, "People for the multidisciplinary group"),
    DemoRole("team-manager", "Team manager", ("224535009", "415075003"), 2, "Team caseloads and allocation"),
    DemoRole("care-home-staff", "Care home staff", (), 0, "Residents of the home"),
    DemoRole("ig-manager", "IG manager", (), 0, "Information governance console"),
    DemoRole("resident", "Resident", (), 0, "Their own record"),
)
ROLE_LABELS = {r.role: r.label for r in ROLES}


def _search(
    system: CallerHandle, resource_type: str, pairs: list[tuple[str, str]]
) -> tuple[list[Resource], dict[str, Resource]]:
    page = system.search(parse_search(resource_type, pairs))
    included = {f"{r['resourceType']}/{r['id']}": r for r in page.included}
    return page.matches, included


def _staff(system: CallerHandle) -> list[SignedIn]:
    codes = sorted({c for r in ROLES for c in r.staff_codes})
    roles, included = _search(
        system,
        "PractitionerRole",
        [
            ("role", ",".join(codes)),
            ("active", "true"),
            ("_count", "1000"),
            ("_include", "PractitionerRole:practitioner"),
            ("_include", "PractitionerRole:organization"),
        ],
    )
    users = []
    for demo in ROLES:
        matching = [
            r
            for r in roles
            if {c.get("code") for cc in r.get("code") or [] for c in cc.get("coding") or []} & set(demo.staff_codes)
        ]
        if len(matching) <= demo.pick:
            continue
        chosen = matching[demo.pick]
        person = included.get(reference_key(chosen.get("practitioner")) or "", {})
        organisation = reference_key(chosen.get("organization"))
        org_name = str(included.get(organisation or "", {}).get("name", "Organisation not recorded"))
        users.append(
            SignedIn(
                demo.role,
                f"PractitionerRole/{chosen['id']}",
                human_name(person.get("name")),
                demo.role,
                demo.label,
                organisation,
                org_name,
            )
        )
    return users


def _care_home(system: CallerHandle) -> list[SignedIn]:
    locations, included = _search(
        system,
        "Location",
        [("type", ",".join(CARE_HOME_LOCATION_TYPES)), ("_count", "200"), ("_include", "Location:organization")],
    )
    if not locations:
        return []
    homes = {reference_key(loc.get("managingOrganization")): loc for loc in locations}
    # A home with someone living there now (an open placement it performs), so the demo shows residents.
    placed, _ = _search(
        system,
        "ServiceRequest",
        [("status", "active"), ("performer", ",".join(h for h in homes if h)), ("_count", "1")],
    )
    performers = [reference_key(p) for r in placed for p in r.get("performer") or []]
    organisation = next((h for h in performers if h in homes), reference_key(locations[0].get("managingOrganization")))
    location = homes.get(organisation, locations[0])
    name = str(included.get(organisation or "", {}).get("name", location.get("name", "Care home")))
    return [
        SignedIn(
            "care-home-staff",
            f"Location/{location['id']}",
            "Care home staff (demo)",
            "care-home-staff",
            ROLE_LABELS["care-home-staff"],
            organisation,
            name,
        )
    ]


def _ig_manager(system: CallerHandle) -> list[SignedIn]:
    """At the place (the organisation partners are part of), else at the first organisation there is."""
    organisations, included = _search(system, "Organization", [("_count", "200"), ("_include", "Organization:partof")])
    if not organisations:
        return []
    place = next(iter(included.values()), organisations[0])
    return [
        SignedIn(
            "ig-manager",
            f"Organization/{place['id']}",
            "IG manager (demo)",
            "ig-manager",
            ROLE_LABELS["ig-manager"],
            f"Organization/{place['id']}",
            str(place.get("name", "")),
        )
    ]


def _resident(system: CallerHandle) -> list[SignedIn]:
    patients, _ = _search(system, "Patient", [("_count", "1")])
    if not patients:
        return []
    patient = patients[0]
    return [
        SignedIn(
            "resident",
            f"Patient/{patient['id']}",
            human_name(patient.get("name")),
            "resident",
            ROLE_LABELS["resident"],
            None,
            "Their own record",
        )
    ]


def demo_sign_in_offered(settings: Settings) -> bool:
    """One click signs anyone in as any demo user, the IG manager included: only for a development or test
    deployment that nobody but this machine can reach (served on loopback, as `joinedup serve` records)."""
    return settings.environment in DEVELOPMENT_ENVIRONMENTS and settings.served_on_loopback


def demo_users(system: CallerHandle) -> list[SignedIn]:
    """One demo user per role the loaded place can supply, in the order of ROLES."""
    found = {u.key: u for u in [*_staff(system), *_care_home(system), *_ig_manager(system), *_resident(system)]}
    return [found[r.role] for r in ROLES if r.role in found]


def describe(role: str) -> str:
    return next((r.what for r in ROLES if r.role == role), "")


def demo_accounts(gate: AccessGate) -> list[tuple[SignedIn, str, str]]:
    """A local account for each demo user, with a fresh random password each time: (user, username, password).

    For development and demonstration only: `joinedup demo` prints them once; they are never stored in clear.
    """
    from secrets import token_urlsafe

    from joinedup.access.audit.trail import Actor

    by = Actor("Device/demo", "system", via="system")
    made = []
    for who in demo_users(gate.for_system("demo-accounts")):
        username, password = f"demo-{who.key}", token_urlsafe(12)
        if gate.accounts.exists(username):
            gate.accounts.set_password(username, password, by)
        else:
            gate.accounts.create(username, password, who.name, who.user, who.role, who.organisation,
                                 who.organisation_name, by=by)  # fmt: skip
        made.append((who, username, password))
    return made
