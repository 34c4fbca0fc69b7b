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
from .people import group_by_person, patients_included

PAGE = 200  # items per list: a worker's list, not a register (the team page reads every page)
RECENTLY_CLOSED = timedelta(days=14)


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
def _tasks(
    caller: CallerHandle, pairs: list[tuple[str, str]], now: datetime
) -> tuple[list[WorkItem], dict[str, Resource], bool]:
    found, included, more = _search(
        caller, "Task", [*pairs, ("_count", str(PAGE)), ("_sort", "-authored-on"), ("_include", "Task:patient")]
    )
    return [task_item(t, version_of(t), now) for t in found], patients_included(included), more


def _episodes(caller: CallerHandle, pairs: list[tuple[str, str]]) -> tuple[list[WorkItem], dict[str, Resource], bool]:
    found, included, more = _search(
        caller,
        "EpisodeOfCare",
        [*pairs, ("status", ",".join(OPEN_EPISODE)), ("_count", str(PAGE)), ("_include", "EpisodeOfCare:patient")],
    )
    return [episode_item(e, version_of(e)) for e in found], patients_included(included), more


def listed(caller: CallerHandle, items: list[WorkItem], patients: dict[str, Resource], more: bool) -> WorkList:
    rows = group_by_person(caller, items, patients)
    for row in rows:
        row.items.sort(key=lambda i: (not i.overdue, i.due is None, i.due or datetime.min))
    rows.sort(key=by_what_needs_doing_first)
    return WorkList(rows, more)


def my_tasks_all(caller: CallerHandle, who: Me, now: datetime) -> tuple[list[WorkItem], dict[str, Resource], bool]:
    return _tasks(caller, [("owner", ",".join(who.refs)), ("status", ",".join(OPEN_TASK))], now)


def team_tasks_all(caller: CallerHandle, who: Me, now: datetime) -> tuple[list[WorkItem], dict[str, Resource], bool]:
    owners = who.owners_of_unallocated
    if not owners:
        return [], {}, False
    return _tasks(caller, [("owner", ",".join(owners)), ("status", ",".join(OPEN_TASK))], now)


def my_caseload(caller: CallerHandle, who: Me) -> WorkList:
    items, patients, more = _episodes(caller, [("care-manager", ",".join(who.refs))])
    return listed(caller, items, patients, more)


def unallocated_episodes(caller: CallerHandle, who: Me) -> tuple[list[WorkItem], dict[str, Resource], bool]:
    if not who.organisation:
        return [], {}, False
    return _episodes(caller, [("organization", who.organisation), ("care-manager:missing", "true")])


def referrals_sent(caller: CallerHandle, who: Me, now: datetime) -> WorkList:
    code = f"{vocabulary().system('task_code')}|fulfill"
    mine = ",".join(who.refs)
    items, patients, more = _tasks(caller, [("requester", mine), ("code", code), ("status", ",".join(OPEN_TASK))], now)
    since = (now - RECENTLY_CLOSED).strftime("%Y-%m-%d")
    closed, closed_patients, closed_more = _tasks(
        caller, [("requester", mine), ("code", code), ("status", ",".join(CLOSED_TASK)), ("modified", f"ge{since}")],
        now,
    )  # fmt: skip
    sent = [_as_sent(i) for i in [*items, *closed]]
    return listed(caller, sent, {**patients, **closed_patients}, more or closed_more)


def _as_sent(item: WorkItem) -> WorkItem:
    """A referral I sent waits on the receiver: it links to the referral page and says who holds it now."""
    holder = item.holder_name or ("a named worker" if (item.holder or "").startswith("PractitionerRole/") else "")
    return replace(item, status=f"{item.status} ({holder})" if holder else item.status)


@dataclass
class HomeWork:
    """Everything the home page lists for a worker, in the order it is shown."""

    overdue: WorkList
    my_tasks: WorkList
    team_unallocated: WorkList
    my_caseload: WorkList
    referrals_sent: WorkList


def home_work(caller: CallerHandle, who: Me, now: datetime) -> HomeWork:
    mine, my_patients, my_more = my_tasks_all(caller, who, now)
    teams, team_patients, team_more = team_tasks_all(caller, who, now)
    episodes, episode_patients, episode_more = unallocated_episodes(caller, who)
    patients = {**my_patients, **team_patients}
    overdue = [i for i in [*mine, *teams] if i.overdue]
    return HomeWork(
        overdue=listed(caller, overdue, patients, False),
        my_tasks=listed(caller, [i for i in mine if not i.overdue], my_patients, my_more),
        team_unallocated=listed(
            caller,
            [*(i for i in teams if not i.overdue), *episodes],
            {**team_patients, **episode_patients},
            team_more or episode_more,
        ),
        my_caseload=my_caseload(caller, who),
        referrals_sent=referrals_sent(caller, who, now),
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
        [("location", ",".join(names)), ("status", "in-progress"), ("_count", str(PAGE)),
         ("_include", "Encounter:subject")],
    )  # fmt: skip
    rows = group_by_person(caller, [residence_item(e, names) for e in found], patients_included(included))
    rows.sort(key=_by_name)
    return WorkList(rows, more)


def _by_name(row: PersonWork) -> tuple[str, str]:
    name = (row.patient.get("name") or [{}])[0]
    return (str(name.get("family") or ""), " ".join(str(g) for g in name.get("given") or []))
