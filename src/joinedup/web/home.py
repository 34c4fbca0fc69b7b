"""Each role's home page: a professional's is their work, ordered by what needs doing first (decision 0504) —
what is overdue, my tasks, my team's unallocated work, my caseload, referrals I sent — then, for a practice, its
registered list, and for a care home, its residents first. Every list shows one row per person. The resident's
and the IG manager's homes are their record and their console. The pages a role may use beyond its lists are
linked from the template (role_pages.pages_for)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from joinedup.access.handle import CallerHandle
from joinedup.care.caseloads import service
from joinedup.care.caseloads.model import PersonWork, WorkItem, WorkList
from joinedup.care.caseloads.registered import LIST_SIZE, registered_list

from .fhir_display import Resource
from .patient_rows import PatientRow, row_for
from .session import SignedIn

PRACTICE_ROLES = frozenset({"gp", "mdg-coordinator"})
WORK_PAGE = service.PAGE  # items a work list reads


@dataclass(frozen=True)
class PersonRow:
    """One person in a list: the row of the record shown for them, and their work in this list."""

    row: PatientRow
    items: tuple[WorkItem, ...] = ()
    records: int = 1  # how many of the person's records the list found (their sources are in row.record_from)


@dataclass
class HomeSection:
    ident: str  # the section's id on the page (and the tests')
    title: str
    rows: list[PersonRow]
    empty: str
    kind: str = "work"  # "work": people and their work; "people": the registered list's columns
    more: bool = False  # the list holds more than it shows
    more_href: str | None = None


@dataclass
class Home:
    heading: str
    sections: list[HomeSection] = field(default_factory=list)
    waits: list[str] = field(default_factory=list)
    own_record: str | None = None


def _sources(records: list[Resource]) -> str:
    """'Riverside Surgery and Saltmoor Royal Hospital': the organisations whose records of the person the list found."""
    names: list[str] = []
    for record in records:
        name = row_for(record, {}).record_from
        if name and name not in names:
            names.append(name)
    return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)


def _rows(work: WorkList, directory: dict[str, Resource] | None = None) -> list[PersonRow]:
    rows = []
    for person in work.rows:
        shown = row_for(person.patient, directory or {})
        rows.append(PersonRow(_with_sources(shown, person), tuple(person.items), max(len(person.records), 1)))
    return rows


def _with_sources(shown: PatientRow, person: PersonWork) -> PatientRow:
    if len(person.records) < 2:
        return shown
    return PatientRow(shown.id, shown.name, shown.birth_date, shown.nhs_number, shown.address, shown.gp_practice,
                      _sources(person.records), shown.local_ids, shown.note)  # fmt: skip


def _work_sections(caller: CallerHandle, who: SignedIn, now: datetime) -> list[HomeSection]:
    me = service.me(caller, who.user, who.organisation)
    work = service.home_work(caller, me, now)
    return [
        HomeSection("overdue", "Overdue", _rows(work.overdue), "Nothing you or your team hold is overdue."),
        HomeSection("my-tasks", "My tasks", _rows(work.my_tasks), "No open tasks are assigned to you by name.",
                    more=work.my_tasks.more),
        HomeSection("team-unallocated", "My team's unallocated work", _rows(work.team_unallocated),
                    "Your team has no work waiting for someone to take it.", more=work.team_unallocated.more),
        HomeSection("my-caseload", "My caseload", _rows(work.my_caseload), "Nobody is on your caseload.",
                    more=work.my_caseload.more),
        HomeSection("referrals-sent", "Referrals I sent", _rows(work.referrals_sent),
                    "You have no open referrals, and none closed in the last 14 days.", more=work.referrals_sent.more),
    ]  # fmt: skip


def _registered(caller: CallerHandle, org: str, page: int) -> HomeSection:
    people, directory = registered_list(caller, org, (page - 1) * LIST_SIZE)
    return HomeSection(
        "registered",
        "Registered patients",
        _rows(people, directory),
        "No patients are registered with this practice." if page == 1 else "There are no more registered patients.",
        kind="people",
        more_href=f"/?page={page + 1}" if people.more else None,
    )


def _care_home(caller: CallerHandle, who: SignedIn, now: datetime) -> Home:
    home = Home(who.organisation_name)
    home.sections.append(
        HomeSection(
            "residents",
            "Residents",
            _rows(service.residents(caller, who.organisation)),
            "Nobody is recorded as living at your home now.",
        )
    )
    me = service.me(caller, who.user, who.organisation)
    found = service.team_tasks(caller, me, now)
    tasks = service.listed(caller, found.items, service.patients_of(caller, found.items), found.more)
    home.sections.append(
        HomeSection("home-tasks", "Tasks for your home", _rows(tasks), "Your home has no open tasks.", more=tasks.more)
    )
    return home


def home_for(caller: CallerHandle, who: SignedIn, page: int = 1, now: datetime | None = None) -> Home:
    org = who.organisation
    moment = now or datetime.now(UTC)
    if who.is_resident:
        return Home(
            "Your record",
            own_record=who.user.split("/", 1)[1],
            waits=["Choosing who may see your record cannot be done online yet."],
        )
    if who.role == "ig-manager" or org is None:
        return Home(
            "Information governance console",
            waits=["Consent, objections and sensitive-record settings have no pages of their own yet."],
        )
    if who.role == "care-home-staff":
        return _care_home(caller, who, moment)
    home = Home(who.organisation_name)
    if page == 1:
        home.sections.extend(_work_sections(caller, who, moment))
    if who.role in PRACTICE_ROLES:
        home.sections.append(_registered(caller, org, page))
    return home
