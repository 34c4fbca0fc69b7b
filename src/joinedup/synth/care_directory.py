"""The directory of integrated care (decision 0506): each partner's teams (HealthcareServices), who works in which
team (PractitionerRole.healthcareService), a manager for each team big enough to have one, and the single point
of access (the community trust's Centre of Contact) with its own teams.

Staff are numbered within their organisation and given to teams in order, team by team, so the first member of
staff of an organisation is always a member of its main (caseload-holding) team, and a team's manager is its last
member (never its first, so the demo's worker and manager are two people). Staff numbers grow with the place
(one complement per `staff_per_people` residents), so a benchmark-sized place has realistic caseload sizes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from .fhir_build import SNOMED, Resource, coding, org_ref, organisation, service_code
from .geography import Borough
from .tables import table

STAFF = {"acute": 20, "community": 16, "mentalhealth": 10, "socialcare": 14, "voluntary": 6}
GPS_PER_PRACTICE = 4
PARTNERS = ("acute", "community", "mentalhealth", "socialcare", "voluntary")
EXISTING_SERVICE = {  # teams that are the services the feeds already name (services.json keys)
    "district-nursing": "district_nursing",
    "falls": "falls_service",
    "cmht": "mh_referral",
    "talking-therapies": "mh_contact",
    "reablement": "reablement",
    "home-care": "home_care",
    "telecare": "telecare",
    "carers": "carers_assessment",
    "assessment": "social_assessment",
    "social-prescribing": "social_prescribing",
}
BARS_SOURCES = ("community", "socialcare", "mentalhealth")  # teams that take referrals as BaRS messages


def practitioner_id(org_code: str, number: int) -> str:
    return f"place-prac-{org_code.lower()}-{number}"


def role_id(org_code: str, number: int) -> str:
    return f"place-role-{org_code.lower()}-{number}"


def service_id(source: str, key: str) -> str:
    return f"place-hs-{source}-{key}"


@dataclass(frozen=True)
class Team:
    id: str
    source: str
    org_code: str
    key: str
    name: str
    kind: Resource  # the service type concept
    members: tuple[str, ...]  # PractitionerRole ids
    manager: str | None
    caseload: bool = False
    spa: bool = False  # the single point of access itself
    spa_team: bool = False  # one of the SPA's own teams
    dos_id: str | None = None
    asks: tuple[tuple[str, str], ...] = ()

    @property
    def ref(self) -> str:
        return f"HealthcareService/{self.id}"


@dataclass(frozen=True)
class Directory:
    teams: tuple[Team, ...]
    staff: dict[str, int]  # staff numbers per partner source
    team_of_role: dict[str, Team]

    def of_source(self, source: str) -> list[Team]:
        return [t for t in self.teams if t.source == source]

    def by_key(self, source: str, key: str) -> Team:
        return next(t for t in self.teams if t.source == source and t.key == key)

    @property
    def spa(self) -> Team:
        return next(t for t in self.teams if t.spa)

    def practice_team(self, practice_code: str) -> Team:
        return self.by_key("gp", practice_code.lower())

    def receivers(self) -> list[Team]:
        """Teams a referral may be sent to (the SPA takes contacts, not referrals; practices are per person)."""
        return [t for t in self.teams if not t.spa and t.source != "gp"]


def staff_scale(people: int) -> int:
    return max(1, round(people / int(table("care_work")["staff_per_people"])))


def _split(count: int, shares: list[float]) -> list[int]:
    """Largest remainder: every team gets at least one member."""
    raw = [s / sum(shares) * count for s in shares]
    sizes = [max(1, int(r)) for r in raw]
    order = sorted(range(len(shares)), key=lambda i: -(raw[i] - int(raw[i])))
    for i in order:
        if sum(sizes) >= count:
            break
        sizes[i] += 1
    return sizes


def _team_kind(spec: dict[str, Any]) -> Resource:
    if "service" in spec:
        return service_code(spec["service"])
    return service_code(table("services")[EXISTING_SERVICE[spec["key"]]])


def build_directory(seed: int, borough: Borough, people: int) -> Directory:
    work = table("care_work")
    scale = staff_scale(people)
    rng = random.Random(f"{seed}:directory")
    staff = {source: count * scale for source, count in STAFF.items()}
    teams: list[Team] = []
    for source in PARTNERS:
        code, _ = organisation(source)
        specs: list[dict[str, Any]] = list(work["teams"][source])
        if source == "community":
            spa = work["spa"]
            specs.insert(2, {"key": "spa", "name": spa["name"], "share": spa["share"], "spa": True})
        sizes = _split(staff[source], [float(s["share"]) for s in specs])
        number = 1
        for spec, size in zip(specs, sizes, strict=True):
            members = tuple(role_id(code, n) for n in range(number, number + size))
            number += size
            is_spa = bool(spec.get("spa"))
            dos = None
            if source in BARS_SOURCES or is_spa:
                dos = f"{rng.randrange(100_000_000, 999_999_999)}"
            teams.append(
                Team(
                    id=str(work["spa"]["id"]) if is_spa else service_id(source, spec["key"]),
                    source=source,
                    org_code=code,
                    key=spec["key"],
                    name=spec["name"],
                    kind=coding(SNOMED, *work["spa"]["type"][:2]) if is_spa else _team_kind(spec),
                    members=members,
                    manager=members[-1] if size >= 3 else None,
                    caseload=bool(spec.get("caseload")),
                    spa=is_spa,
                    spa_team=bool(spec.get("spa_team")),
                    dos_id=dos,
                    asks=tuple((a[0], a[1]) for a in spec.get("asks", [])),
                )
            )
    gp_spec = work["teams"]["gp"][0]
    for practice in borough.practices:
        members = tuple(role_id(practice.code, n) for n in range(1, GPS_PER_PRACTICE + 1))
        teams.append(
            Team(
                id=service_id("gp", practice.code.lower()),
                source="gp",
                org_code=practice.code,
                key=practice.code.lower(),
                name=f"{practice.name} {gp_spec['name']}",
                kind=service_code(["local", "general-practice", "General practice"]),
                members=members,
                manager=None,
                asks=tuple((a[0], a[1]) for a in gp_spec["asks"]),
            )
        )
    team_of_role = {member: team for team in teams for member in team.members}
    return Directory(tuple(teams), staff, team_of_role)


def service_resource(team: Team, place_meta: Resource) -> Resource:
    resource: Resource = {
        "resourceType": "HealthcareService",
        "id": team.id,
        "meta": place_meta,
        "active": True,
        "providedBy": org_ref(team.org_code),
        "type": [team.kind],
        "name": team.name,
    }
    if team.dos_id:
        system = str(table("care_work")["dos_service_id_system"])
        resource["identifier"] = [{"system": system, "value": team.dos_id}]
    if team.spa_team:
        resource["characteristic"] = [{"text": "spa-team"}]
    return resource


def manager_code() -> Resource:
    work = table("care_work")
    return coding(str(work["staff_role_system"]), *work["team_manager"])
