"""Demo users for the development sign-in: one per role, each a real member of staff (or resident) of the loaded
place, found through the system's sign-in handle (audited as the system) — a GP at a practice, a social worker at
the council, and so on.

Only for development and test deployments served on a loopback address (demo_sign_in_offered; the sign-in routes
refuse otherwise, and `joinedup serve` will not serve those environments anywhere else: decision 0311).
Information governance's sign-in replaces this with accounts; the `SignedIn` it produces stays the same.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from joinedup.access.gate import AccessGate
from joinedup.access.handle import CallerHandle
from joinedup.care.vocabulary import vocabulary
from joinedup.fhir.search_request import parse_search
from joinedup.settings import Settings

from .fhir_display import human_name, reference_key
from .session import DEVELOPMENT_ENVIRONMENTS, SignedIn

Resource = dict[str, Any]
CARE_HOME_LOCATION_TYPES = ("285141008", "42665001")  # SNOMED: care home, nursing home
SPA_SERVICE_TYPE = "310023007"  # the single point of access's service type (the test place's and the synthetic one's)
SPA_TEAM = "spa-team"  # HealthcareService.characteristic text of the SPA's own teams (contract section 3)
TEAM_MANAGER = "team-manager"  # a PractitionerRole.code of a team's manager (synth's care-role code system)


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
    DemoRole(
        "team-manager", "Team manager", ("224535009", "415075003"), 2, "The team's caseloads, allocation and load"
    ),
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


def _codes_of(resource: Resource, key: str = "code") -> set[str]:
    return {str(c.get("code")) for cc in resource.get(key) or [] for c in cc.get("coding") or []}


def _teams_of(role: Resource) -> set[str]:
    return {str(h.get("reference")) for h in role.get("healthcareService") or []}


class _Place:
    """What the loaded place says about its staff's work (decision 0506): the single point of access and its teams,
    team managers, the multidisciplinary groups and their coordinators. The demo users are chosen from it, so each
    care role signs in as someone who has that work; a place that says none of it falls back to DemoRole.pick."""

    def __init__(self, system: CallerHandle) -> None:
        self.system = system
        spa, _ = _search(system, "HealthcareService", [("service-type", SPA_SERVICE_TYPE), ("_count", "50")])
        self.spa = {f"HealthcareService/{s['id']}" for s in spa}
        teams, _ = _search(system, "HealthcareService", [("_count", "1000")])
        self.spa_teams = {
            f"HealthcareService/{t['id']}" for t in teams if {"text": SPA_TEAM} in t.get("characteristic", [])
        }
        mdg = f"{vocabulary().system('group_kind')}|mdg"
        self.groups, _ = _search(system, "Group", [("code", mdg), ("_count", "50")])

    def coordinators(self) -> set[str]:
        """The PractitionerRole of each MDG's coordinator: its member at the organisation that manages it."""
        found: set[str] = set()
        for group in self.groups:
            manager = reference_key(group.get("managingEntity"))
            members = [reference_key(m.get("entity")) for m in group.get("member") or []]
            roles, _ = _search(self.system, "PractitionerRole", [("_id", ",".join(
                m.removeprefix("PractitionerRole/") for m in members if m and m.startswith("PractitionerRole/")
            )), ("_count", "100")])  # fmt: skip
            found |= {f"PractitionerRole/{r['id']}" for r in roles if reference_key(r.get("organization")) == manager}
        return found

    def choose(self, demo: DemoRole, matching: list[Resource]) -> Resource | None:
        """The member of staff the demo user is; None when the place has nobody in that role."""

        def at_spa(role: Resource) -> bool:
            return bool(_teams_of(role) & (self.spa | self.spa_teams))

        def manages(role: Resource) -> bool:
            return TEAM_MANAGER in _codes_of(role)

        chosen: list[Resource] = []
        if demo.role == "spa-triage":
            chosen = [r for r in matching if _teams_of(r) & self.spa and not manages(r)]
        elif demo.role == "team-manager":
            chosen = [r for r in matching if manages(r) and not at_spa(r)]
        elif demo.role == "mdg-coordinator":
            coordinators = self.coordinators()
            chosen = [r for r in matching if f"PractitionerRole/{r['id']}" in coordinators]
        elif self.spa or self.groups:  # a worker with a caseload: not at the SPA, not a manager
            chosen = [r for r in matching if not at_spa(r) and not manages(r)]
        if chosen:
            return chosen[0]
        return matching[demo.pick] if len(matching) > demo.pick else None


def _staff(system: CallerHandle) -> list[SignedIn]:
    place = _Place(system)
    users = []
    for demo in ROLES:
        if not demo.staff_codes:
            continue
        matching, included = _search(
            system,
            "PractitionerRole",
            [
                ("role", ",".join(demo.staff_codes)),
                ("active", "true"),
                ("_count", "1000"),
                ("_include", "PractitionerRole:practitioner"),
                ("_include", "PractitionerRole:organization"),
            ],
        )
        chosen = place.choose(demo, matching)
        if chosen is None:
            continue
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
    # The home with most people living there now (residence Encounters in progress at its Location, decision 0506),
    # else one with an open placement it performs, so the demo shows residents.
    staying, _ = _search(
        system,
        "Encounter",
        [("status", "in-progress"), ("location", ",".join(f"Location/{x['id']}" for x in locations)),
         ("_count", "1000")],
    )  # fmt: skip
    residents = Counter(reference_key(at.get("location")) for e in staying for at in e.get("location") or [])
    by_location = {f"Location/{x['id']}": x for x in locations}
    busiest = next((by_location[k] for k, _ in residents.most_common() if k in by_location), None)
    placed, _ = _search(
        system,
        "ServiceRequest",
        [("status", "active"), ("performer", ",".join(h for h in homes if h)), ("_count", "1")],
    )
    performers = [reference_key(p) for r in placed for p in r.get("performer") or []]
    organisation = next((h for h in performers if h in homes), reference_key(locations[0].get("managingOrganization")))
    if busiest is not None:
        organisation = reference_key(busiest.get("managingOrganization"))
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
