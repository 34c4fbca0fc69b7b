"""The work of integrated care for one person, as it stands on the place's "now" (decision 0506): their open
caseload episodes with a named worker (or waiting with the team), referrals between partners over the last months
(sent from the sender's own record), contacts with the single point of access and their triage, telecare alerts,
vulnerable-person flags, a care home residence, and the workers' follow-up tasks. Need drives it all: frailty,
long-term conditions, social care support and age.

Each resource lives in the feed of the partner that wrote it and points at that partner's Patient record (opened
for the person if the partner had none); the one exception is a caseload episode's `referralRequest`, which points
at the referral in the sender's feed, as the receiving team's record does.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from .care_directory import Directory, Team
from .care_resources import caseload_episode, contact, referral, residence, triage_task, vulnerable_flag, work_task
from .care_story import Story, pick, referral_story, wait, worker
from .fhir_build import Resource, ref
from .records import SourcePerson, Write
from .records_care import telecare_device_resource
from .tables import table

Holder = Callable[[str], SourcePerson]
SENDERS = {"gp": 0.4, "acute": 0.2, "community": 0.12, "mentalhealth": 0.08, "socialcare": 0.12, "voluntary": 0.08}
RECEIVERS = {"community": 0.3, "socialcare": 0.25, "voluntary": 0.15, "mentalhealth": 0.1, "acute": 0.1, "gp": 0.1}


def moment(day: int, hour: float = 9.0) -> datetime:
    return datetime.combine(datetime.fromordinal(day).date(), time(0), tzinfo=UTC) + timedelta(hours=hour)


@dataclass
class Need:
    """What the work for a person is drawn from (everything as at the place's now)."""

    age: float
    frailty: int  # 0 fit .. 3 severe
    conditions: frozenset[str]
    deficits: frozenset[str]
    home_care: bool
    telecare: bool
    carer: bool
    care_home: str | None  # the home's ODS-like code
    care_home_since: int
    practice_code: str
    admitted_lately: bool

    @property
    def score(self) -> float:
        serious = len(self.conditions & {"dementia", "heart_failure", "copd", "ckd", "stroke", "cancer"})
        return self.frailty * 1.5 + serious + 0.05 * max(0.0, self.age - 65) + 1.5 * self.admitted_lately


@dataclass
class PersonWork:
    """What was made for one person, for the multidisciplinary groups (collected across people)."""

    open_referral: bool = False
    resources: int = 0
    kinds: dict[str, int] = field(default_factory=dict)


class CareWork:
    def __init__(self, seed: int, directory: Directory, now: datetime, write: Write) -> None:
        self.seed, self.directory, self.now, self._write = seed, directory, now, write
        self.work = table("care_work")
        self.spa = directory.spa
        self.done = PersonWork()

    def person(self, person: int, need: Need, holder: Holder) -> PersonWork:
        rng = random.Random(f"{self.seed}:{person}:care-work")
        done = self.done = PersonWork()
        if need.care_home:
            gp = holder("gp")
            since = max(moment(need.care_home_since, 11.0), moment(need.care_home_since))
            self.write("gp", residence(gp, gp.subject(), need.care_home, since))
        for team, chance in self._caseloads(need):
            if rng.random() < chance:
                self._episode(rng, team, need, holder)
        for _ in range(self._count(rng, 0.05 + 0.12 * need.score)):
            self._referral(rng, need, holder)
        for _ in range(self._count(rng, 0.03 + 0.07 * need.score)):
            self._contact(rng, need, holder)
        if need.telecare:
            for _ in range(self._count(rng, 0.6)):
                self._telecare(rng, holder)
        return done

    def write(self, source: str, resource: Resource) -> None:
        self.done.resources += 1
        kind = str(resource["resourceType"])
        self.done.kinds[kind] = self.done.kinds.get(kind, 0) + 1
        self._write(source, resource)

    @staticmethod
    def _count(rng: random.Random, mean: float) -> int:
        count, limit, product = 0, math.exp(-mean), rng.random()
        while product > limit:
            count += 1
            product *= rng.random()
        return count

    def _caseloads(self, need: Need) -> list[tuple[Team, float]]:
        d, older = self.directory, need.age >= 65
        frail = (0.02, 0.08, 0.3, 0.6)[need.frailty] if older else 0.004 * len(need.conditions)
        at_home = need.care_home is None
        lonely = "social_vulnerability" in need.deficits
        return [
            (d.by_key("community", "district-nursing"), frail * (1.6 if "skin_ulcer" in need.deficits else 1.0)),
            (d.by_key("community", "falls"), 0.15 if "falls" in need.deficits and at_home else 0.0),
            (
                d.by_key("mentalhealth", "cmht"),
                0.35 if "smi" in need.conditions else 0.04 * ("depression" in need.conditions),
            ),
            (
                d.by_key("socialcare", "assessment"),
                0.6 if need.home_care else 0.25 if need.carer or need.telecare else 0.1 * (need.frailty >= 2),
            ),
            (d.by_key("voluntary", "social-prescribing"), (0.12 if lonely else 0.015) * at_home),
        ]

    def _episode(self, rng: random.Random, team: Team, need: Need, holder: Holder) -> None:
        owner = holder(team.source)
        start = self.now - wait(rng, [120, 0.9], timedelta(days=1))
        allocated = rng.random() < self.work["allocated_share"]
        named = worker(rng, team) if allocated else None
        referral_id = None
        if named and rng.random() < 0.4:  # it came from a referral the worker has seen the person for
            sender = self._sender_source(rng, team.source)
            requester = self._requester(rng, sender, need)
            authored = start - timedelta(days=rng.uniform(2, 20))
            story = referral_story(rng, authored, "routine", start, requester, team, force_first_contact=named)
            referral_id = self._send(rng, holder, sender, team, story, requester)
        status = "waitlist" if not named and rng.random() < 0.3 else "active"
        self.write(team.source, caseload_episode(owner, team, status, start, named, referral_id))
        if named:
            for _ in range(self._count(rng, 0.9)):
                self._follow_up(rng, owner, f"PractitionerRole/{named}", f"PractitionerRole/{named}")
        else:
            lead = f"PractitionerRole/{team.manager or team.members[0]}"
            self._follow_up(rng, owner, team.ref, lead, "Allocate a worker")

    def _follow_up(self, rng: random.Random, owner: SourcePerson, who: str, by: str, what: str | None = None) -> None:
        authored = self.now - timedelta(days=rng.uniform(0.5, 20))
        due = authored + timedelta(days=rng.uniform(2, 14))
        status = rng.choices(("requested", "in-progress", "completed"), (0.6, 0.2, 0.2))[0]
        changed = authored + (self.now - authored) * rng.uniform(0.1, 0.9)
        words = what or rng.choice(self.work["follow_up_words"])
        self.write(
            owner.source,
            work_task(owner, owner.subject(), "follow-up", words, who, by, authored, due, status, changed),
        )

    def _sender_source(self, rng: random.Random, receiver: str) -> str:
        senders = {k: v for k, v in SENDERS.items() if k != receiver}
        return pick(rng, senders)

    def _requester(self, rng: random.Random, source: str, need: Need) -> str:
        if source == "gp":
            return f"PractitionerRole/{rng.choice(self.directory.practice_team(need.practice_code).members)}"
        teams = [t for t in self.directory.of_source(source) if not t.spa]
        return f"PractitionerRole/{worker(rng, teams[0] if rng.random() < 0.6 else rng.choice(teams))}"

    def _send(self, rng: random.Random, holder: Holder, sender: str, team: Team, story: Story, requester: str) -> str:
        what, why = rng.choice(team.asks) if team.asks else ("Assessment", "Needs support")
        owner = holder(sender)
        request, task = referral(owner, owner.subject(), story, team, requester, what, why)
        self.write(sender, request)
        self.write(sender, task)
        if story.is_open:
            self.done.open_referral = True
        return str(request["id"])

    def _receiver(self, rng: random.Random, sender: str, need: Need) -> Team:
        source = pick(rng, {k: v for k, v in RECEIVERS.items() if k != sender})
        if source == "gp":
            return self.directory.practice_team(need.practice_code)
        return rng.choice([t for t in self.directory.receivers() if t.source == source and not t.spa_team])

    def _referral(self, rng: random.Random, need: Need, holder: Holder) -> None:
        sender = pick(rng, SENDERS if need.admitted_lately else {**SENDERS, "acute": 0.05})
        team = self._receiver(rng, sender, need)
        days = float(self.work["referral_days_back"])
        authored = self.now - timedelta(days=rng.uniform(0, days))
        urgency = pick(rng, self.work["urgency_mix"])
        requester = self._requester(rng, sender, need)
        story = referral_story(rng, authored, urgency, self.now, requester, team)
        self._send(rng, holder, sender, team, story, requester)

    def _spa_member(self, rng: random.Random) -> str:
        return f"PractitionerRole/{rng.choice(self.spa.members)}"

    def _contact(self, rng: random.Random, need: Need, holder: Holder) -> None:
        work = self.work
        owner = holder("community")
        route = pick(rng, work["contact_routes"])
        came_from = "professional" if route == "message" else pick(rng, work["contact_from"])
        urgency = pick(rng, work["urgency_mix"])
        sent = self.now - timedelta(days=rng.uniform(0, float(work["contact_days_back"])))
        decided = sent + wait(rng, work["contact_decision_hours"][urgency], timedelta(hours=1))
        is_open = decided > self.now
        identified = not (is_open and rng.random() < work["unidentified_share"] * 3)
        subject = owner.subject() if identified else None
        if came_from == "professional":
            sender: Resource = {"reference": self._requester(rng, pick(rng, {**SENDERS, "community": 0}), need)}
        elif came_from == "resident" and subject is not None:
            sender = dict(subject)
        else:
            sender = {"display": rng.choice(work["carer_senders"]) if came_from == "carer" else "The caller"}
        said = rng.choice(work["contact_words"][came_from])
        communication = contact(owner, subject, route, came_from, sender, sent, said, self.spa)
        self.write("community", communication)
        decision, referred = None, None
        if not is_open:
            outcome = pick(rng, work["triage_outcomes"])
            by = self._spa_member(rng)
            reason = rng.choice(sorted(work["decline_words"])) if outcome == "declined" else None
            if outcome == "referred-on":
                team = self._receiver(rng, "community", need)
                story = referral_story(rng, decided, urgency, self.now, by, team)
                referred = f"ServiceRequest/{self._send(rng, holder, 'community', team, story, by)}"
            if outcome == "accepted-by-spa":
                spa_team = rng.choice([t for t in self.directory.of_source("community") if t.spa_team])
                self._follow_up(rng, owner, spa_team.ref, by, rng.choice(spa_team.asks)[0])
            decision = (outcome, decided, by, reason)
            if rng.random() < (0.45 if "social_vulnerability" in need.deficits or need.frailty >= 2 else 0.05):
                why = rng.choice(work["flag_words"])
                self.write("community", vulnerable_flag(owner, owner.subject(), why, decided, by))
        self.write("community", triage_task(owner, communication, urgency, self.spa, decision, referred))

    def _telecare(self, rng: random.Random, holder: Holder) -> None:
        owner = holder("socialcare")
        device = telecare_device(owner, self.write)
        sent = self.now - timedelta(days=rng.uniform(0, 30))
        said = rng.choice(self.work["telecare_words"])
        communication = contact(owner, owner.subject(), "telecare", "telecare", device, sent, said, self.spa)
        self.write("socialcare", communication)
        decided = sent + wait(rng, [0.5, 0.8], timedelta(hours=1))
        decision = None
        if decided < self.now:
            outcome = rng.choices(("advice", "accepted-by-spa", "referred-on"), (0.7, 0.2, 0.1))[0]
            by = self._spa_member(rng)
            if outcome == "accepted-by-spa":
                ucr = self.directory.by_key("community", "spa-urgent-response")
                self._follow_up(rng, owner, ucr.ref, by, "Urgent community response visit after a telecare alert")
            decision = (outcome, decided, by, None)
        referred = None
        if decision and decision[0] == "referred-on":
            falls = self.directory.by_key("community", "falls")
            story = referral_story(rng, decided, "72-hours", self.now, decision[2], falls)
            request, task = referral(owner, owner.subject(), story, falls, decision[2], "Falls assessment",
                                     "Telecare alerts after falls at home")  # fmt: skip
            self.write("socialcare", request)
            self.write("socialcare", task)
            referred = f"ServiceRequest/{request['id']}"
        self.write("socialcare", triage_task(owner, communication, "same-day", self.spa, decision, referred))


def telecare_device(owner: SourcePerson, write: Callable[[str, Resource], None]) -> Resource:
    """The person's telecare alarm (a Device in the social care feed): the one their record has, else a new one."""
    count = owner.counters.get("dev", 0)
    if count:
        return ref("Device", f"{owner.source}-dev-{owner.number:07d}-{count}")
    device = telecare_device_resource(owner)
    write("socialcare", device)
    return ref("Device", str(device["id"]))
