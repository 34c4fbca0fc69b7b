"""The FHIR shapes of care coordination (the issue 26 contract, /work/care-contract.md; decision 0506), built for
the synthetic place: a referral's ServiceRequest and Task, a contact at the single point of access and its triage
Task, a vulnerable-person Flag, a caseload EpisodeOfCare, a care home residence Encounter and a worker's Task.
Only builders here: what happens to whom is decided in care_work.py."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from joinedup.care.referrals.model import instant, step_concept, task_status_of
from joinedup.care.vocabulary import vocabulary

from .care_directory import Team
from .care_story import Story
from .fhir_build import Resource, encounter_class, org_ref, ref
from .records import SourcePerson, resource

TASK_CODE = "fulfill"


def _ref(reference: str) -> dict[str, str]:
    return {"reference": reference}


def referral(
    holder: SourcePerson, subject: Resource, story: Story, team: Team, requester: str, what: str, why: str
) -> tuple[Resource, Resource]:
    """The ServiceRequest and its Task (care/referrals/model.py's shapes), as the story left them."""
    words = vocabulary()
    urgency = words.get("urgencies", story.urgency)
    authored = instant(story.authored)
    step = story.last.code
    closed_by = {"completed": "completed", "declined": "revoked", "cancelled": "revoked"}
    request_id, task_id = holder.new_id("sr"), holder.new_id("task")
    request = resource(
        "ServiceRequest",
        request_id,
        holder,
        status=closed_by.get(step, "active"),
        intent="order",
        priority=urgency.extra["priority"],
        code={**team.kind, "text": what},
        subject=subject,
        authoredOn=authored,
        requester=_ref(requester),
        performer=[_ref(team.ref)],
        reasonCode=[{"text": why}],
    )
    task: Resource = resource(
        "Task",
        task_id,
        holder,
        status=task_status_of(step),
        businessStatus=step_concept(step),
        intent="order",
        priority=urgency.extra["priority"],
        code={"coding": [{"system": words.system("task_code"), "code": TASK_CODE}], "text": "Referral"},
        description=what,
        focus=ref("ServiceRequest", request_id),
        **{"for": subject},
        authoredOn=authored,
        lastModified=instant(story.last.at),
        requester=_ref(requester),
        owner=_ref(story.owner),
        restriction={"period": {"end": instant(story.authored + words.clock(story.urgency))}},
        note=[{"authorReference": _ref(s.author), "time": instant(s.at), "text": s.text} for s in story.steps],
    )
    if story.decline_reason:
        task["statusReason"] = words.get("decline_reasons", story.decline_reason).concept()
    if story.first_contact:
        task["executionPeriod"] = {"start": instant(story.first_contact)}
    if story.finished and story.outcome:
        task["executionPeriod"]["end"] = instant(story.finished)
        task["output"] = [{"type": {"text": "outcome"}, "valueString": story.outcome}]
    return request, task


def contact(
    holder: SourcePerson,
    subject: Resource | None,
    route: str,
    came_from: str,
    sender: Resource,
    sent: datetime,
    said: str,
    spa: Team,
) -> Resource:
    """A contact at the single point of access (a Communication): subject absent while not yet identified."""
    words = vocabulary()
    medium = words.get("contact_routes", route).extra["medium"]
    found: Resource = resource(
        "Communication",
        holder.new_id("comm"),
        holder,
        status="completed",
        category=[
            {"coding": [words.get("contact_routes", route).coding()]},
            {"coding": [words.get("contact_from", came_from).coding()]},
        ],
        medium=[{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode", "code": medium}]}],
        sent=instant(sent),
        payload=[{"contentString": said}],
        recipient=[_ref(spa.ref)],
        sender=sender,
    )
    if subject is not None:
        found["subject"] = subject
    return found


def triage_task(
    holder: SourcePerson,
    communication: Resource,
    urgency: str,
    spa: Team,
    decision: tuple[str, datetime, str, str | None] | None,
    referred: str | None,
) -> Resource:
    """The triage work item; `decision`: (triage outcome, when, by whom, decline reason) once decided."""
    words = vocabulary()
    sent = communication["sent"]
    task: Resource = resource(
        "Task",
        holder.new_id("task"),
        holder,
        status="completed" if decision else "requested",
        intent="order",
        priority=words.get("urgencies", urgency).extra["priority"],
        code=words.get("work_kinds", "triage").concept(),
        description="Triage a contact",
        focus=ref("Communication", communication["id"]),
        authoredOn=sent,
        lastModified=instant(decision[1]) if decision else sent,
        owner=_ref(spa.ref),
        restriction={"period": {"end": instant(_parse(sent) + words.clock(urgency))}},
    )
    if "subject" in communication:
        task["for"] = communication["subject"]
    if decision:
        outcome, when, by, reason = decision
        task["businessStatus"] = words.get("triage_outcomes", outcome).concept()
        task["executionPeriod"] = {"start": sent, "end": instant(when)}
        task["note"] = [{"authorReference": _ref(by), "time": instant(when), "text": "Triage decision recorded"}]
        if reason:
            task["statusReason"] = words.get("decline_reasons", reason).concept()
        if referred:
            task["output"] = [{"type": {"text": "referral"}, "valueReference": _ref(referred)}]
    return task


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def vulnerable_flag(holder: SourcePerson, subject: Resource, why: str, start: datetime, author: str) -> Resource:
    words = vocabulary()
    kind = words.get("flag_kinds", "vulnerable-person")
    review = start + timedelta(days=int(kind.extra["review_days"]))
    return resource(
        "Flag",
        holder.new_id("flag"),
        holder,
        status="active",
        category=[kind.concept()],
        code={"text": why},
        subject=subject,
        period={"start": instant(start), "end": instant(review)},
        author=_ref(author),
    )


def caseload_episode(
    holder: SourcePerson, team: Team, status: str, start: datetime, manager: str | None, referral_id: str | None
) -> Resource:
    """An open caseload entry: careManager the named worker, absent while it waits with the team."""
    episode: Resource = resource(
        "EpisodeOfCare",
        holder.new_id("eoc"),
        holder,
        status=status,
        type=[team.kind],
        patient=holder.subject(),
        managingOrganization=org_ref(team.org_code),
        period={"start": instant(start)},
    )
    if referral_id:
        episode["referralRequest"] = [ref("ServiceRequest", referral_id)]
    if manager:
        episode["careManager"] = ref("PractitionerRole", manager)
    return episode


def residence(holder: SourcePerson, subject: Resource, home_code: str, since: datetime) -> Resource:
    """Living in a care home now: an Encounter in progress at the home's Location."""
    return resource(
        "Encounter",
        holder.new_id("enc"),
        holder,
        status="in-progress",
        **{"class": encounter_class("HH")},
        type=[{"text": "Care home residence"}],
        subject=subject,
        location=[{"location": ref("Location", f"place-loc-{home_code.lower()}"), "status": "active"}],
        serviceProvider=org_ref(home_code),
        period={"start": instant(since)},
    )


def work_task(
    holder: SourcePerson,
    subject: Resource,
    kind: str,
    what: str,
    owner: str,
    requester: str,
    authored: datetime,
    due: datetime,
    status: str,
    changed: datetime,
    **extra: Any,
) -> Resource:
    """A piece of work for a worker or a team (work_kinds: follow-up, huddle-action)."""
    task: Resource = resource(
        "Task",
        holder.new_id("task"),
        holder,
        status=status,
        intent="order",
        priority="routine",
        code=vocabulary().get("work_kinds", kind).concept(),
        description=what,
        **{"for": subject},
        authoredOn=instant(authored),
        lastModified=instant(changed),
        requester=_ref(requester),
        owner=_ref(owner),
        restriction={"period": {"end": instant(due)}},
        **extra,
    )
    if status == "completed":
        task["executionPeriod"] = {"end": instant(changed)}
    return task
