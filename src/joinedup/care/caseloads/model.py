"""A worker's work as the home page and the team page show it: one item per Task or EpisodeOfCare (or care home
residence), grouped into one row per person. Pure: reads resource dicts, no I/O.

What an item links to follows the contract (care-contract.md): a referral Task (`code = fulfill`) opens its
referral page, a triage Task its SPA contact page, anything else (a huddle action, a task from a feed, an episode)
the person's record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from joinedup.care.vocabulary import vocabulary

Resource = dict[str, Any]

OPEN_TASK = ("draft", "requested", "received", "accepted", "ready", "in-progress", "on-hold")
CLOSED_TASK = ("completed", "rejected", "cancelled", "failed")
OPEN_EPISODE = ("active", "waitlist", "onhold")
TASK_STATUS_WORDS = {
    "draft": "Draft",
    "requested": "Waiting for a decision",
    "received": "Received",
    "accepted": "Accepted",
    "ready": "Ready",
    "in-progress": "In progress",
    "on-hold": "On hold",
    "completed": "Completed",
    "rejected": "Declined",
    "cancelled": "Cancelled",
    "failed": "Failed",
}
EPISODE_STATUS_WORDS = {"active": "Active", "waitlist": "Waiting list", "onhold": "On hold"}


def parse_instant(text: Any) -> datetime | None:
    """A FHIR date or instant as an aware datetime (a bare date is the start of that day, UTC)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def short_date(moment: datetime | None) -> str:
    return f"{moment.day} {moment:%B %Y}" if moment else ""


def text_of(concept: Any) -> str:
    if not isinstance(concept, dict):
        return ""
    if concept.get("text"):
        return str(concept["text"])
    for coding in concept.get("coding") or []:
        if coding.get("display"):
            return str(coding["display"])
    return ""


def ref_of(value: Any) -> str | None:
    """'Type/id' of a Reference, else None."""
    reference = value.get("reference") if isinstance(value, dict) else None
    return reference if isinstance(reference, str) and "/" in reference else None


def id_of(value: Any, resource_type: str) -> str | None:
    reference = ref_of(value)
    if reference and reference.startswith(f"{resource_type}/"):
        return reference.split("/", 1)[1]
    return None


def task_kind(task: Resource) -> str:
    """referral | triage | huddle-action | task: what the Task's code says it is (contract sections 1, 3, 5)."""
    words = vocabulary()
    for coding in (task.get("code") or {}).get("coding") or []:
        if coding.get("system") == words.system("task_code") and coding.get("code") == "fulfill":
            return "referral"
        if coding.get("system") == words.system("work_kind") and coding.get("code") in ("triage", "huddle-action"):
            return str(coding["code"])
    return "task"


KIND_WORDS = {"referral": "Referral", "triage": "Triage", "huddle-action": "Huddle action", "task": "Task"}


def task_due(task: Resource) -> datetime | None:
    return parse_instant(((task.get("restriction") or {}).get("period") or {}).get("end"))


def task_is_open(task: Resource) -> bool:
    return task.get("status") in OPEN_TASK


def is_overdue(task: Resource, now: datetime) -> bool:
    due = task_due(task)
    return task_is_open(task) and due is not None and due < now


@dataclass(frozen=True)
class WorkItem:
    """One piece of work about a person: a Task, an episode of care or a residence."""

    key: str  # 'Task/…', 'EpisodeOfCare/…', 'Encounter/…'
    version: int | None  # the version it was read at (for a move's stale check)
    kind: str  # referral | triage | huddle-action | task | episode | residence
    title: str  # what it is, in words
    status: str  # where it has got to, in words
    href: str  # where to act on it
    due: datetime | None = None
    overdue: bool = False
    holder: str | None = None  # who holds it now: 'PractitionerRole/…', a team or organisation (None: nobody)
    holder_name: str = ""
    patient_id: str | None = None

    @property
    def resource_type(self) -> str:
        return self.key.split("/", 1)[0]

    @property
    def resource_id(self) -> str:
        return self.key.split("/", 1)[1]

    @property
    def due_text(self) -> str:
        return short_date(self.due)


def task_item(task: Resource, version: int | None, now: datetime) -> WorkItem:
    kind = task_kind(task)
    patient_id = id_of(task.get("for"), "Patient")
    href = {
        "referral": f"/referrals/{task['id']}",
        "triage": f"/spa/contacts/{task['id']}",
    }.get(kind, f"/record/{patient_id}" if patient_id else "/")
    what = str(task.get("description") or "") or text_of(task.get("code")) or "Task"
    step = text_of(task.get("businessStatus"))
    status = TASK_STATUS_WORDS.get(str(task.get("status")), str(task.get("status") or ""))
    title = what if kind == "task" else f"{KIND_WORDS[kind]}: {what}" if what != KIND_WORDS[kind] else what
    return WorkItem(
        key=f"Task/{task['id']}",
        version=version,
        kind=kind,
        title=title,
        status=step or status,
        href=href,
        due=task_due(task),
        overdue=is_overdue(task, now),
        holder=ref_of(task.get("owner")),
        holder_name=str((task.get("owner") or {}).get("display") or ""),
        patient_id=patient_id,
    )


def episode_item(episode: Resource, version: int | None) -> WorkItem:
    patient_id = id_of(episode.get("patient"), "Patient")
    types = [text_of(t) for t in episode.get("type") or []]
    since = short_date(parse_instant((episode.get("period") or {}).get("start")))
    status = EPISODE_STATUS_WORDS.get(str(episode.get("status")), str(episode.get("status") or ""))
    return WorkItem(
        key=f"EpisodeOfCare/{episode['id']}",
        version=version,
        kind="episode",
        title=next((t for t in types if t), "Episode of care"),
        status=f"{status} since {since}" if since else status,
        href=f"/record/{patient_id}" if patient_id else "/",
        holder=ref_of(episode.get("careManager")),
        holder_name=str((episode.get("careManager") or {}).get("display") or ""),
        patient_id=patient_id,
    )


def residence_item(encounter: Resource, home_names: dict[str, str]) -> WorkItem:
    patient_id = id_of(encounter.get("subject"), "Patient")
    since = short_date(parse_instant((encounter.get("period") or {}).get("start")))
    where = next(
        (home_names[r] for loc in encounter.get("location") or [] if (r := ref_of(loc.get("location"))) in home_names),
        "the home",
    )
    return WorkItem(
        key=f"Encounter/{encounter['id']}",
        version=None,
        kind="residence",
        title=f"Lives at {where}",
        status=f"Since {since}" if since else "Living there now",
        href=f"/record/{patient_id}" if patient_id else "/",
        patient_id=patient_id,
    )


@dataclass
class PersonWork:
    """One person's row: the record shown for them (one of their linked records), every record of theirs the list
    found, and their items in the list."""

    patient: Resource
    records: list[Resource] = field(default_factory=list)
    items: list[WorkItem] = field(default_factory=list)

    @property
    def patient_id(self) -> str:
        return str(self.patient["id"])

    @property
    def first_due(self) -> datetime | None:
        dues = [i.due for i in self.items if i.due is not None]
        return min(dues) if dues else None

    @property
    def overdue(self) -> bool:
        return any(i.overdue for i in self.items)


@dataclass
class WorkList:
    rows: list[PersonWork]
    more: bool = False  # the search found more than a page holds


def by_what_needs_doing_first(row: PersonWork) -> tuple[int, datetime, str]:
    """Overdue first, then the earliest due date, then those with no due date (by name, so the order is stable)."""
    far = datetime.max.replace(tzinfo=UTC)
    names = row.patient.get("name") or [{}]
    family = str(names[0].get("family") or "")
    return (0 if row.overdue else 1, row.first_due or far, family)
