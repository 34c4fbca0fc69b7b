"""Multidisciplinary groups (decision 0506; contract section 5): one MDG per neighbourhood, a Group of staff from
every partner coordinated by a GP of the neighbourhood's first practice; its case-finding List (the people case
finding would pick: older and in greatest need), its past huddles (retired agendas) and the next one (a current
agenda), and the actions agreed at each huddle (Tasks), the older ones mostly done.

The Group is directory data (the place feed); the Lists and Tasks name people, so they are the coordinator's
practice's records (the GP feed, whose Patients they point at). Ids are stable for a seed and never collide with
what the huddles service publishes from the population refresh: `gp-list-casefinding-<n>`,
`gp-list-mdg<n>-agenda-<k>`, `gp-task-mdg<n>-action-<k>-<i>`.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from joinedup.care.referrals.model import instant
from joinedup.care.vocabulary import vocabulary

from .care_directory import Directory, role_id
from .fhir_build import Resource, meta, org_ref, ref
from .geography import Borough
from .records import Write
from .tables import table


@dataclass
class Neighbourhood:
    """Who the neighbourhood's MDG might discuss, gathered while people are generated."""

    candidates: list[tuple[float, int, str]] = field(default_factory=list)  # a min-heap of (need, person, Patient)
    referred: list[str] = field(default_factory=list)  # people with an open referral (their GP Patient ids)

    def offer(self, score: float, person: int, patient_id: str, keep: int) -> None:
        if len(self.candidates) < keep:
            heapq.heappush(self.candidates, (score, person, patient_id))
        elif score > self.candidates[0][0]:
            heapq.heapreplace(self.candidates, (score, person, patient_id))

    def case_finding(self) -> list[str]:
        return [p for _, _, p in sorted(self.candidates, key=lambda c: (-c[0], c[1]))]


def group_id(number: int) -> str:
    return f"place-group-mdg-{number}"


def coordinator_of(borough: Borough, hood: int) -> tuple[str, str]:
    """(PractitionerRole id, practice code) of the MDG's coordinator: the second GP of its first practice."""
    practice = next(p for p in borough.practices if p.neighbourhood == hood)
    return role_id(practice.code, 2), practice.code


def _members(directory: Directory, borough: Borough, hood: int) -> list[str]:
    coordinator, first = coordinator_of(borough, hood)
    members = [coordinator]
    for practice in [p for p in borough.practices if p.neighbourhood == hood and p.code != first][:2]:
        members.append(role_id(practice.code, 3))
    for source, key in (("community", "district-nursing"), ("socialcare", "assessment"), ("mentalhealth", "cmht"),
                        ("voluntary", "social-prescribing"), ("acute", "frailty")):  # fmt: skip
        team = directory.by_key(source, key)
        members.append(team.members[hood % len(team.members)])
    return members


POSTCODE_DISTRICT = "https://joinedup.example/fhir/CodeSystem/postcode-district"


def _district(borough: Borough, hood: int) -> str:
    return next(area.district for area in borough.areas if area.neighbourhood == hood)


def mdg_groups(directory: Directory, borough: Borough, place_meta: Resource) -> list[Resource]:
    words = vocabulary()
    groups = []
    for hood, name in enumerate(borough.neighbourhoods):
        _, practice = coordinator_of(borough, hood)
        characteristic: list[Resource] = [
            {
                "code": {"text": "neighbourhood"},
                # the postcode district is the neighbourhood's key in population health (its case-finding lists)
                "valueCodeableConcept": {
                    "coding": [{"system": POSTCODE_DISTRICT, "code": _district(borough, hood)}],
                    "text": name,
                },
                "exclude": False,
            }
        ]
        characteristic += [
            {"code": {"text": "practice"}, "valueReference": org_ref(p.code), "exclude": False}
            for p in borough.practices
            if p.neighbourhood == hood
        ]
        groups.append(
            {
                "resourceType": "Group",
                "id": group_id(hood + 1),
                "meta": place_meta,
                "type": "practitioner",
                "actual": True,
                "code": words.get("group_kinds", "mdg").concept(),
                "name": f"{name} neighbourhood MDG",
                "managingEntity": org_ref(practice),
                "characteristic": characteristic,
                "member": [{"entity": ref("PractitionerRole", m)} for m in _members(directory, borough, hood)],
            }
        )
    return groups


def mdg_records(
    seed: int,
    directory: Directory,
    borough: Borough,
    hoods: list[Neighbourhood],
    now: datetime,
    write: Write,
) -> None:
    """Each MDG's case-finding List, its agendas and the actions agreed."""
    words = vocabulary()
    spec = table("care_work")["mdg"]
    practices = {p.code: p.name for p in borough.practices}
    for hood, found in enumerate(hoods):
        number = hood + 1
        rng = random.Random(f"{seed}:mdg:{number}")
        coordinator, practice = coordinator_of(borough, hood)
        block = meta("gp", practice, practices[practice])
        subject = ref("Group", group_id(number))
        listed = found.case_finding()
        write(
            "gp",
            {
                "resourceType": "List",
                "id": f"gp-list-casefinding-{number}",
                "meta": block,
                "status": "current",
                "mode": "snapshot",
                "title": "Case-finding list",
                "code": words.get("list_kinds", "case-finding").concept(),
                "subject": subject,
                "date": instant(now),
                "entry": [{"item": ref("Patient", p)} for p in listed],
            },
        )
        members = _members(directory, borough, hood)
        meetings = int(spec["past_meetings"])
        next_meeting = now + timedelta(days=int(spec["next_meeting_in_days"]))
        for k in range(1, meetings + 2):
            held = next_meeting - timedelta(days=int(spec["every_days"]) * (meetings + 1 - k))
            current = k == meetings + 1
            people = _agenda_people(rng, listed, found.referred, int(spec["agenda_people"]))
            agenda_id = f"gp-list-mdg{number}-agenda-{k}"
            write(
                "gp",
                {
                    "resourceType": "List",
                    "id": agenda_id,
                    "meta": block,
                    "status": "current" if current else "retired",
                    "mode": "working",
                    "title": f"Huddle on {held.date().isoformat()}",
                    "code": words.get("list_kinds", "mdg-agenda").concept(),
                    "subject": subject,
                    "date": instant(held),
                    "entry": [
                        {"item": ref("Patient", p), "flag": {"text": why}, "date": instant(held - timedelta(days=3))}
                        for p, why in people
                    ],
                },
            )
            if current:
                continue
            for i, (patient, _) in enumerate(people, start=1):
                write("gp", _action(rng, block, number, k, i, patient, held, now, members, directory, coordinator))


def _agenda_people(rng: random.Random, listed: list[str], referred: list[str], size: int) -> list[tuple[str, str]]:
    chosen: dict[str, str] = {}
    for patient in rng.sample(listed, min(len(listed), size - 2)):
        chosen[patient] = "case-finding"
    for patient in rng.sample(referred, min(len(referred), 1)):
        chosen.setdefault(patient, "referral")
    spare = [p for p in listed if p not in chosen]
    for patient in rng.sample(spare, min(len(spare), max(0, size - len(chosen)))):
        chosen[patient] = "member"
    return list(chosen.items())


def _action(
    rng: random.Random,
    block: Resource,
    number: int,
    meeting: int,
    index: int,
    patient: str,
    held: datetime,
    now: datetime,
    members: list[str],
    directory: Directory,
    coordinator: str,
) -> Resource:
    words = vocabulary()
    age_days = (now - held).days
    done_chance = min(0.9, age_days / 40)
    status = "completed" if rng.random() < done_chance else rng.choice(("requested", "in-progress", "accepted"))
    if status == "completed" and rng.random() < 0.1:
        status = "cancelled"
    member = rng.choice(members[1:])
    owner = f"PractitionerRole/{member}"
    if rng.random() < 0.25:
        team = directory.team_of_role.get(member)
        owner = team.ref if team else owner
    changed = held + (now - held) * rng.uniform(0.2, 0.9)
    task: Resource = {
        "resourceType": "Task",
        "id": f"gp-task-mdg{number}-action-{meeting}-{index}",
        "meta": block,
        "status": status,
        "intent": "order",
        "priority": "routine",
        "code": words.get("work_kinds", "huddle-action").concept(),
        "description": rng.choice(table("care_work")["action_words"]),
        "for": ref("Patient", patient),
        "authoredOn": instant(held),
        "lastModified": instant(changed),
        "requester": ref("PractitionerRole", coordinator),
        "owner": {"reference": owner},
        "restriction": {"period": {"end": instant(held + timedelta(days=rng.choice((7, 14, 21))))}},
        "groupIdentifier": {"system": words.system("group_kind"), "value": group_id(number)},
        "input": [{"type": {"text": "agenda"}, "valueReference": ref("List", f"gp-list-mdg{number}-agenda-{meeting}")}],
    }
    if status == "completed":
        task["executionPeriod"] = {"end": instant(changed)}
    return task
