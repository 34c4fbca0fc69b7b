"""A worker's work lists, as functions of the caller's handle (decision 0504): generic Task and EpisodeOfCare
searches per the care coordination contract, each list one row per person.

- my caseload: open EpisodeOfCare whose careManager is me (my PractitionerRole, or the Practitioner behind it);
- my tasks: open Tasks I own, whatever their code (referral, triage, huddle action, any other);
- my team's unallocated work: open Tasks owned by my team(s) (the HealthcareServices my PractitionerRole names, or
  my organisation's when it names none) or by my organisation itself, and my organisation's open episodes with no
  careManager;
- referrals I sent: referral Tasks (`code = fulfill`) I requested, open or closed in the last fortnight;
- overdue: the open Tasks of the lists above whose decision is due before now (`restriction.period.end`), pulled
  out to the top of the page so that each Task shows once;
- residents: for a care home's staff, the people with an Encounter in progress at one of the home's Locations.

The gate decides what each search returns; nothing here depends on the referrals, triage or huddles code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from joinedup.access.handle import CallerHandle
from joinedup.care.vocabulary import vocabulary
from joinedup.fhir.errors import FhirError
from joinedup.fhir.search_request import parse_search

from .model import (
    CLOSED_TASK,
    OPEN_EPISODE,
    OPEN_TASK,
    PersonWork,
    Resource,
    WorkItem,
    WorkList,
    by_what_needs_doing_first,
    episode_item,
    ref_of,
    residence_item,
    task_item,
)
from .people import group_by_person, patients_included, person_keys

PAGE = 50  # items a home page list reads: a worker's list, not a register (it says when there are more), and each
# item costs the page time (the home page's budget: p95 200 ms)
RECENTLY_CLOSED = timedelta(days=14)
PATIENTS = 500  # Patients read by id in one search
RESIDENTS = 300  # a home's residents are one list, read whole (the largest homes have a few hundred beds)


@dataclass(frozen=True)
class Me:
    """Who the signed-in worker is in the record: their own references, their organisation and their teams."""

    refs: tuple[str, ...]  # 'PractitionerRole/…' and the 'Practitioner/…' behind it
    organisation: str | None  # 'Organization/…'
    teams: tuple[str, ...]  # 'HealthcareService/…'

    @property
    def owners_of_unallocated(self) -> tuple[str, ...]:
        return (*self.teams, *((self.organisation,) if self.organisation else ()))


def _search(
    caller: CallerHandle, resource_type: str, pairs: Sequence[tuple[str, str]]
) -> tuple[list[Resource], list[Resource], bool]:
    page = caller.search(parse_search(resource_type, list(pairs)))
    return page.matches, page.included, page.has_next


def version_of(resource: Resource) -> int | None:
    text = (resource.get("meta") or {}).get("versionId")
    return int(text) if isinstance(text, str) and text.isdigit() else None


def teams_of_organisation(caller: CallerHandle, organisation: str | None) -> tuple[str, ...]:
    if not organisation:
        return ()
    found, _, _ = _search(caller, "HealthcareService", [("organization", organisation), ("_count", "100")])
    return tuple(f"HealthcareService/{s['id']}" for s in found)


def me(caller: CallerHandle, user: str, organisation: str | None) -> Me:
    """The worker's references and teams, read from their PractitionerRole (directory data)."""
    refs: list[str] = [user]
    teams: list[str] = []
    kind, _, role_id = user.partition("/")
    if kind == "PractitionerRole" and role_id:
        try:
            role = caller.read("PractitionerRole", role_id).content or {}
        except FhirError:
            role = {}
        practitioner = ref_of(role.get("practitioner"))
        if practitioner:
            refs.append(practitioner)
        teams = [r for s in role.get("healthcareService") or [] if (r := ref_of(s))]
    return Me(tuple(refs), organisation, tuple(teams) or teams_of_organisation(caller, organisation))


# --- the searches ----------------------------------------------------------------------------------------------
# The gate's visibility condition is the cost of each search, and an _include pays it again, so the home page reads
# each list's resources without their Patients, then every list's Patients in one search and their Persons in one.
@dataclass
class Found:
    items: list[WorkItem]
    more: bool = False  # the search found more than a page holds


def _tasks(caller: CallerHandle, pairs: list[tuple[str, str]], now: datetime, size: int = PAGE) -> Found:
    # oldest first: when a list holds more than a page, the oldest work is the likeliest to be overdue
    found, _, more = _search(caller, "Task", [*pairs, ("_count", str(size)), ("_sort", "authored-on")])
    return Found([task_item(t, version_of(t), now) for t in found], more)


def _episodes(caller: CallerHandle, pairs: list[tuple[str, str]]) -> Found:
    found, _, more = _search(
        caller, "EpisodeOfCare", [*pairs, ("status", ",".join(OPEN_EPISODE)), ("_count", str(PAGE))]
    )
    return Found([episode_item(e, version_of(e)) for e in found], more)


def patients_of(caller: CallerHandle, items: list[WorkItem]) -> dict[str, Resource]:
    """The Patients the items are about, as the caller may see them: one search (each costs the gate's visibility
    condition once), of at most a home page's worth of people."""
    wanted = sorted({i.patient_id for i in items if i.patient_id})
    found: dict[str, Resource] = {}
    for start in range(0, len(wanted), PATIENTS):
        pairs = [("_id", ",".join(wanted[start : start + PATIENTS])), ("_count", str(PATIENTS))]
        found.update(patients_included(_search(caller, "Patient", pairs)[0]))
    return found


def listed(
    caller: CallerHandle,
    items: list[WorkItem],
    patients: dict[str, Resource],
    more: bool,
    keys: dict[str, str] | None = None,
) -> WorkList:
    rows = group_by_person(caller, items, patients, keys)
    for row in rows:
        row.items.sort(key=lambda i: (not i.overdue, i.due is None, i.due or datetime.min))
    rows.sort(key=by_what_needs_doing_first)
    return WorkList(rows, more)


def team_tasks(caller: CallerHandle, who: Me, now: datetime) -> Found:
    owners = who.owners_of_unallocated
    if not owners:
        return Found([])
    return _tasks(caller, [("owner", ",".join(owners)), ("status", ",".join(OPEN_TASK))], now)


def caseload_episodes(caller: CallerHandle, who: Me) -> Found:
    return _episodes(caller, [("care-manager", ",".join(who.refs))])


def unallocated_episodes(caller: CallerHandle, who: Me) -> Found:
    if not who.organisation:
        return Found([])
    return _episodes(caller, [("organization", who.organisation), ("care-manager:missing", "true")])


def sent_referrals(caller: CallerHandle, who: Me, now: datetime) -> Found:
    code = f"{vocabulary().system('task_code')}|fulfill"
    mine = ",".join(who.refs)
    still_open = _tasks(caller, [("requester", mine), ("code", code), ("status", ",".join(OPEN_TASK))], now)
    since = (now - RECENTLY_CLOSED).strftime("%Y-%m-%d")
    closed = _tasks(
        caller, [("requester", mine), ("code", code), ("status", ",".join(CLOSED_TASK)), ("modified", f"ge{since}")],
        now,
    )  # fmt: skip
    return Found([_as_sent(i) for i in [*still_open.items, *closed.items]], still_open.more or closed.more)


def _as_sent(item: WorkItem) -> WorkItem:
    """A referral I sent waits on the receiver: it links to the referral page and says who holds it now."""
    holder = item.holder_name or ("a named worker" if (item.holder or "").startswith("PractitionerRole/") else "")
    return replace(item, status=f"{item.status} ({holder})" if holder else item.status)


def my_caseload(caller: CallerHandle, who: Me) -> WorkList:
    found = caseload_episodes(caller, who)
    return listed(caller, found.items, patients_of(caller, found.items), found.more)


@dataclass
class HomeWork:
    """Everything the home page lists for a worker, in the order it is shown."""

    overdue: WorkList
    my_tasks: WorkList
    team_unallocated: WorkList
    my_caseload: WorkList
    referrals_sent: WorkList


def _mine_and_my_teams(caller: CallerHandle, who: Me, now: datetime) -> tuple[Found, Found]:
    """My open tasks and my team's, in one search (each search costs the gate's visibility condition once)."""
    owners = (*who.refs, *who.owners_of_unallocated)
    both = _tasks(caller, [("owner", ",".join(owners)), ("status", ",".join(OPEN_TASK))], now, 2 * PAGE)
    mine = [i for i in both.items if i.holder in who.refs]
    return Found(mine, both.more), Found([i for i in both.items if i.holder not in who.refs], both.more)


def home_work(caller: CallerHandle, who: Me, now: datetime) -> HomeWork:
    mine, teams = _mine_and_my_teams(caller, who, now)
    unallocated, caseload = unallocated_episodes(caller, who), caseload_episodes(caller, who)
    sent = sent_referrals(caller, who, now)
    everything = [*mine.items, *teams.items, *unallocated.items, *caseload.items, *sent.items]
    patients = patients_of(caller, everything)
    keys = person_keys(caller, patients)
    team_work = [*(i for i in teams.items if not i.overdue), *unallocated.items]
    return HomeWork(
        overdue=listed(caller, [i for i in [*mine.items, *teams.items] if i.overdue], patients, False, keys),
        my_tasks=listed(caller, [i for i in mine.items if not i.overdue], patients, mine.more, keys),
        team_unallocated=listed(caller, team_work, patients, teams.more or unallocated.more, keys),
        my_caseload=listed(caller, caseload.items, patients, caseload.more, keys),
        referrals_sent=listed(caller, sent.items, patients, sent.more, keys),
    )


# --- a care home's residents -----------------------------------------------------------------------------------
def residents(caller: CallerHandle, organisation: str | None) -> WorkList:
    """People living at the organisation's homes now: an Encounter in progress at one of its Locations."""
    if not organisation:
        return WorkList([])
    homes, _, _ = _search(caller, "Location", [("organization", organisation), ("_count", "100")])
    if not homes:
        return WorkList([])
    names = {f"Location/{h['id']}": str(h.get("name") or "the home") for h in homes}
    found, included, more = _search(
        caller,
        "Encounter",
        [("location", ",".join(names)), ("status", "in-progress"), ("_count", str(RESIDENTS)),
         ("_include", "Encounter:subject")],
    )  # fmt: skip
    rows = group_by_person(caller, [residence_item(e, names) for e in found], patients_included(included))
    rows.sort(key=_by_name)
    return WorkList(rows, more)


def _by_name(row: PersonWork) -> tuple[str, str]:
    name = (row.patient.get("name") or [{}])[0]
    return (str(name.get("family") or ""), " ".join(str(g) for g in name.get("given") or []))
