"""The access matrix's place and its oracle: a handful of people built so that, for a user of every role in
roles.json, each combination of (relationship or not) × (objection or not) × (sensitive or not) is one person and
one resource, and a plain model of the published rules (decision 0300) saying who may see each resource.

The oracle is written from the rules, not from the SQL: it knows by construction who is related to whom, who has
objected, who wrote what and which labels each resource carries, and decides visibility in a few lines of Python.
The matrix (test_matrix.py) asks the application and compares, cell by cell.

Each person also has a second Patient record at another organisation (plain, or labelled sexual health), with the
same relationships and objection, for the person index's decisions; and the place holds the population tests'
hand-built people (tests/population/people.py), two of them objectors, so the population refresh has people to
score and people to leave out (decision 0321).

This module holds no tests; it is named test_matrix_* only because that is the name this helper may have.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from joinedup.access.consent_codes import OBJECTS_TO_SHARING, objection
from joinedup.access.labels import SENSITIVE_LABELS, label
from joinedup.access.personal_types import PERSONAL_TYPES
from joinedup.access.roles import catalogue, purpose_of
from joinedup.fhir.source import SOURCE_TAG_SYSTEM, SOURCE_URI_PREFIX

from ..population import people as population_people

Resource = dict[str, Any]
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"
SNOMED = "http://snomed.info/sct"

# The three Observations every person has: from another organisation, plain; from another organisation, sexual
# health (granted to GPs and residents only); written by the GP practice, psychotherapy notes (granted to nobody
# but system, so only the authoring practice sees it: the "own organisation" exemption).
KINDS = {"plain": "1000001", "sensitive": "1000002", "own": "1000003"}
SENSITIVE_CATEGORY = "sexual-health"
OWN_CATEGORY = "psychotherapy-notes"

ROLES = tuple(catalogue().roles)  # every role in roles.json: a new role joins the matrix on its own


@dataclass(frozen=True)
class Org:
    code: str
    name: str

    @property
    def id(self) -> str:
        return f"mx-org-{self.code.lower()}"


AUTHOR = Org("MXA01", "Matrix Acute Trust")  # writes most of everyone's record
OTHER_PRACTICE = Org("MXP02", "Matrix Other Surgery")  # where the unrelated people are registered


def role_org(role_name: str) -> Org:
    return Org(f"MXR{ROLES.index(role_name):02d}", f"Matrix {role_name} organisation")


GP_ORG = role_org("gp")  # registers the related people and writes their "own" Observation
CLINIC = Org("MXS03", "Matrix Sexual Health Clinic")  # keeps a second record of everyone, labelled sexual health


@dataclass(frozen=True)
class Subject:
    """One person: related to every professional user or to none, objecting to sharing or not."""

    related: bool
    objected: bool

    @property
    def patient_id(self) -> str:
        return f"mx-{'rel' if self.related else 'non'}-{'obj' if self.objected else 'ok'}"

    @property
    def family(self) -> str:
        return {
            (True, False): "Quillfeather",
            (True, True): "Marrowdale",
            (False, False): "Thistlecombe",
            (False, True): "Brackenridge",
        }[(self.related, self.objected)]

    def second_record(self, kind: str) -> str:
        """Another organisation's Patient record of the same person (the person index's work): "plain" from the
        acute trust, "sensitive" from the sexual health clinic, labelled so."""
        return f"{self.patient_id}-second-{kind}"

    def second_family(self, kind: str) -> str:
        return SECOND_FAMILIES[(self.related, self.objected, kind)]

    def observation_id(self, kind: str) -> str:
        return f"{self.patient_id}-{kind}"

    def marker(self, kind: str) -> str:
        """Text that appears only in this Observation, so a page or a body can be searched for it."""
        return f"Matrix finding {kind} {self.patient_id}"


SUBJECTS = tuple(Subject(r, o) for r in (True, False) for o in (False, True))
SECOND_KINDS = ("plain", "sensitive")
SECOND_FAMILIES = {  # names found nowhere else, so a body can be searched for each record
    (True, False, "plain"): "Wexcombe", (True, False, "sensitive"): "Yarrowby",
    (True, True, "plain"): "Fennimore", (True, True, "sensitive"): "Gorsedale",
    (False, False, "plain"): "Hollinshed", (False, False, "sensitive"): "Ivybridge",
    (False, True, "plain"): "Juniperfold", (False, True, "sensitive"): "Kestrelby",
}  # fmt: skip


def subject(related: bool, objected: bool) -> Subject:
    return next(s for s in SUBJECTS if s.related == related and s.objected == objected)


@dataclass(frozen=True)
class User:
    role: str
    user: str  # reference
    organisation: str | None

    @property
    def resident_of(self) -> str | None:
        return self.user.split("/", 1)[1] if self.user.startswith("Patient/") else None


def user_for(role_name: str, cell_subject: Subject) -> User:
    """The user of a cell. A resident "has a relationship" with their own record only: with a relationship they
    are the cell's person, without one they are another person (the related, not objecting one)."""
    if catalogue().get(role_name).may("own-record.read"):
        own = cell_subject if cell_subject.related else subject(True, False)
        return User(role_name, f"Patient/{own.patient_id}", None)
    if role_name == "system":
        return User(role_name, "Device/mx-system", None)
    org = role_org(role_name)
    return User(role_name, f"PractitionerRole/mx-role-{ROLES.index(role_name):02d}", f"Organization/{org.id}")


def _meta(org: Org, *labels: dict[str, str]) -> Resource:
    block: Resource = {
        "source": f"{SOURCE_URI_PREFIX}{org.code.lower()}",
        "tag": [{"system": SOURCE_TAG_SYSTEM, "code": org.code, "display": org.name}],
    }
    if labels:
        block["security"] = list(labels)
    return block


@dataclass(frozen=True)
class Entry:
    """One resource of the place and the facts the oracle decides from."""

    resource: Resource
    patient: str | None  # the person it concerns (None: directory)
    author: str  # ODS code of the organisation that wrote it
    categories: frozenset[str] = field(default_factory=frozenset)

    @property
    def key(self) -> str:
        return f"{self.resource['resourceType']}/{self.resource['id']}"


def _directory() -> Iterator[Entry]:
    orgs = [AUTHOR, OTHER_PRACTICE, CLINIC, *(role_org(r) for r in ROLES)]
    for org in orgs:
        yield Entry(
            {
                "resourceType": "Organization",
                "id": org.id,
                "meta": _meta(AUTHOR),
                "active": True,
                "name": org.name,
                "identifier": [{"system": ODS, "value": org.code}],
            },
            None,
            AUTHOR.code,
        )
    for number, role_name in enumerate(ROLES):
        yield Entry(
            {
                "resourceType": "Practitioner",
                "id": f"mx-prac-{number:02d}",
                "meta": _meta(AUTHOR),
                "name": [{"family": f"Staffer{number:02d}", "given": ["Matrix"]}],
            },
            None,
            AUTHOR.code,
        )
        yield Entry(
            {
                "resourceType": "PractitionerRole",
                "id": f"mx-role-{number:02d}",
                "meta": _meta(AUTHOR),
                "active": True,
                "practitioner": {"reference": f"Practitioner/mx-prac-{number:02d}"},
                "organization": {"reference": f"Organization/{role_org(role_name).id}"},
            },
            None,
            AUTHOR.code,
        )


def _relationships(pid: str) -> Iterator[Entry]:
    """One relationship per professional role's organisation, each of a different kind where the role suggests one
    (registration is the Patient itself): so every kind of relationship is exercised by the matrix."""
    ref = {"reference": f"Patient/{pid}"}
    for number, role_name in enumerate(ROLES):
        if role_name in ("gp", "system") or catalogue().get(role_name).may("own-record.read"):
            continue
        org = {"reference": f"Organization/{role_org(role_name).id}"}
        user = {"reference": f"PractitionerRole/mx-role-{number:02d}"}
        rid = f"{pid}-rel-{number:02d}"
        resource: Resource
        kind = number % 4
        if role_name == "care-home-staff" or kind == 0:  # a care home placement is an open episode of the home
            resource = {
                "resourceType": "EpisodeOfCare",
                "id": rid,
                "status": "active",
                "patient": ref,
                "managingOrganization": org,
                "period": {"start": "2025-01-01"},
            }
        elif kind == 1:
            resource = {
                "resourceType": "ServiceRequest",
                "id": rid,
                "status": "active",
                "intent": "order",
                "subject": ref,
                "performer": [org],
                "code": {"text": "Referral"},
            }
        elif kind == 2:
            resource = {
                "resourceType": "Task",
                "id": rid,
                "status": "requested",
                "intent": "order",
                "for": ref,
                "owner": org,
            }
        else:
            resource = {
                "resourceType": "CareTeam",
                "id": rid,
                "status": "active",
                "subject": ref,
                "participant": [{"member": user}],
            }
        resource["meta"] = _meta(AUTHOR)
        yield Entry(resource, pid, AUTHOR.code)


def _person(who: Subject) -> Iterator[Entry]:
    pid = who.patient_id
    practice = GP_ORG if who.related else OTHER_PRACTICE
    yield Entry(
        {
            "resourceType": "Patient",
            "id": pid,
            "meta": _meta(practice),
            "name": [{"family": who.family, "given": ["Matrix"]}],
            "gender": "unknown",
            "birthDate": "1950-01-01",
            "generalPractitioner": [{"reference": f"Organization/{practice.id}"}],
            "managingOrganization": {"reference": f"Organization/{practice.id}"},
        },
        pid,
        practice.code,
    )
    for kind, code in KINDS.items():
        org, categories = AUTHOR, frozenset[str]()
        if kind == "sensitive":
            categories = frozenset({SENSITIVE_CATEGORY})
        if kind == "own":
            org, categories = practice, frozenset({OWN_CATEGORY})
        yield Entry(
            {
                "resourceType": "Observation",
                "id": who.observation_id(kind),
                "meta": _meta(org, *(label(c) for c in sorted(categories))),
                "status": "final",
                "code": {"coding": [{"system": SNOMED, "code": code}], "text": who.marker(kind)},
                "subject": {"reference": f"Patient/{pid}"},
                "effectiveDateTime": "2025-03-01",
                "valueString": who.marker(kind),
            },
            pid,
            org.code,
            categories,
        )
    yield Entry(
        {
            "resourceType": "Group",
            "id": f"{pid}-group",
            "meta": _meta(AUTHOR),
            "type": "person",
            "actual": True,
            "member": [{"entity": {"reference": f"Patient/{pid}"}}],
        },
        pid,
        AUTHOR.code,
    )
    yield from _objection_and_relationships(who, pid, practice)
    for kind in SECOND_KINDS:
        yield from _second_record(who, kind)


def _second_record(who: Subject, kind: str) -> Iterator[Entry]:
    """The person's record at another organisation, with the same relationships and objection as their first, so
    that who may see it differs from the first only by its sensitivity (and by who wrote it)."""
    rid = who.second_record(kind)
    practice = GP_ORG if who.related else OTHER_PRACTICE
    org, categories = (CLINIC, frozenset({SENSITIVE_CATEGORY})) if kind == "sensitive" else (AUTHOR, frozenset())
    yield Entry(
        {
            "resourceType": "Patient",
            "id": rid,
            "meta": _meta(org, *(label(c) for c in sorted(categories))),
            "name": [{"family": who.second_family(kind), "given": ["Matrix"]}],
            "gender": "unknown",
            "birthDate": "1950-01-01",
            "generalPractitioner": [{"reference": f"Organization/{practice.id}"}],
        },
        rid,
        org.code,
        categories,
    )
    yield from _objection_and_relationships(who, rid, practice)


def _objection_and_relationships(who: Subject, pid: str, practice: Org) -> Iterator[Entry]:
    """The subject's objection (recorded by their practice) and care relationships, on one of their records."""
    if who.objected:
        consent = objection(pid, OBJECTS_TO_SHARING, f"{pid}-objection")
        consent["meta"] = _meta(practice)
        yield Entry(consent, pid, practice.code)
    if who.related:
        yield from _relationships(pid)


def _population() -> Iterator[Entry]:
    """The population tests' hand-built people (tests/population/people.py), registered with a GP feed so that the
    population refresh scores them, two of them objectors (one opted out of secondary use, one objected to
    sharing): the population pages are tested against the refreshed place. They are unrelated to every user."""
    for resource in [*population_people.place(), *population_people.objectors()]:
        patient = resource["id"] if resource["resourceType"] == "Patient" else None
        for element in ("subject", "patient"):
            reference = str((resource.get(element) or {}).get("reference", ""))
            if reference.startswith("Patient/"):
                patient = reference.split("/", 1)[1]
        made = copy.deepcopy(resource)
        made.setdefault("meta", {"source": population_people.GP})
        yield Entry(made, patient, "")


POPULATION_OBJECTORS = frozenset({"gp-olive", "gp-percy"})  # the records their objections name
POPULATION_WITHHELD = frozenset({"gp-olive", "acute-olive", "gp-percy"})  # every record of those people


@lru_cache(maxsize=1)
def entries() -> tuple[Entry, ...]:
    found = list(_directory())
    for who in SUBJECTS:
        found.extend(_person(who))
    found.extend(_population())
    return tuple(found)


def resources() -> list[Resource]:
    return [copy.deepcopy(e.resource) for e in entries()]


def copy_of(observation: Resource, new_id: str) -> Resource:
    """A fresh resource with the same person, author and labels (writes in the matrix change copies, never the
    place the reads are checked against)."""
    made = {**observation, "id": new_id}
    made["meta"] = {k: v for k, v in observation["meta"].items() if k in ("source", "tag", "security")}
    return made


# --- the oracle ------------------------------------------------------------------------------------------------
def owner_of(patient: str) -> Subject | None:
    """The subject whose record (first or second) this Patient id is."""
    return next((s for s in SUBJECTS if patient in (s.patient_id, *(s.second_record(k) for k in SECOND_KINDS))), None)


def _related(user: User, patient: str) -> bool:
    if user.resident_of is not None:
        return patient == user.resident_of
    who = owner_of(patient)
    return who is not None and who.related


def _objected(patient: str) -> bool:
    """Objected to sharing (direct care honours this objection only)."""
    who = owner_of(patient)
    return (who is not None and who.objected) or patient == "gp-percy"


def _opted_out(patient: str) -> bool:
    """Objected to sharing or opted out of secondary use (secondary use honours both)."""
    return _objected(patient) or patient in POPULATION_OBJECTORS


def _own_code(user: User) -> str | None:
    if user.organisation is None:
        return None
    return next((role_org(r).code for r in ROLES if f"Organization/{role_org(r).id}" == user.organisation), None)


def visible(user: User, entry: Entry) -> bool:
    """The published rules (decision 0300, policy.py's docstring) in plain Python."""
    held = catalogue().get(user.role)
    if held.may("record.read.unrestricted"):
        return True
    if entry.patient is None or entry.resource["resourceType"] not in PERSONAL_TYPES:
        return True  # directory data: any signed-in role
    if held.may("own-record.read"):
        return entry.patient == user.resident_of and entry.categories <= held.sensitive
    if not held.may("record.read.clinical"):
        return False
    own = entry.author == _own_code(user)
    return (
        _related(user, entry.patient)
        and (own or not _objected(entry.patient))
        and (own or entry.categories <= held.sensitive)
    )


def secondary_use(user: User) -> bool:
    """Whether the user's API calls are secondary use (analytics): pseudonymised, never about a named person."""
    return purpose_of(user.role) == "analytics"


def secondary_visible(entry: Entry) -> bool:
    """What secondary use may see (policy.py, decision 0330), before pseudonymisation: directory data, and the
    records of people who have not objected, less anything sensitive (whoever wrote it)."""
    if entry.patient is None or entry.resource["resourceType"] not in PERSONAL_TYPES:
        return True
    return not _opted_out(entry.patient) and not entry.categories


def secondary_keys(resource_type: str | None = None) -> set[str]:
    return {
        e.key
        for e in entries()
        if secondary_visible(e) and (resource_type is None or e.resource["resourceType"] == resource_type)
    }


def visible_keys(user: User, resource_type: str | None = None, patient: str | None = None) -> set[str]:
    return set(_visible_keys(user, resource_type, patient))


@cache
def _visible_keys(user: User, resource_type: str | None, patient: str | None) -> frozenset[str]:
    return frozenset(
        {
            e.key
            for e in entries()
            if visible(user, e)
            and (resource_type is None or e.resource["resourceType"] == resource_type)
            and (patient is None or e.patient == patient)
        }
    )


@cache
def entry_of(key: str) -> Entry:
    return next(e for e in entries() if e.key == key)


assert set(SENSITIVE_LABELS) >= {SENSITIVE_CATEGORY, OWN_CATEGORY}
