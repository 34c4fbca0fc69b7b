"""What the single point of access's pages show of a contact, worked out once (names, clocks, what is overdue)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from joinedup.care.vocabulary import vocabulary

from .model import Contact


def day_and_time(moment: datetime | None) -> str:
    return f"{moment.day} {moment:%B %Y} at {moment:%H:%M}" if moment else "Not recorded"


def duration(span: timedelta) -> str:
    """'3 days 4 hours', '5 hours 10 minutes', '12 minutes' — the two largest units."""
    minutes = max(int(span.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    shown = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n][:2]
    return " ".join(shown) or "less than a minute"


@dataclass(frozen=True)
class ContactView:
    task_id: str
    version: str
    urgency: str
    urgency_label: str
    route: str
    came_from: str
    what: str
    sender: str
    person: str  # the person's name, or "Not yet identified"
    patient_id: str | None
    received: str
    due: str
    waiting: str
    overdue: bool
    overdue_by: str
    is_open: bool
    outcome: str
    decided: str
    referral: str | None
    reason: str
    notes: tuple[str, ...]


def view_of(contact: Contact, person: str | None, now: datetime) -> ContactView:
    words = vocabulary()
    outcome = contact.outcome
    reason_codes = [c.get("code") for c in (contact.task.get("statusReason") or {}).get("coding") or []]
    reasons = words.table("decline_reasons")
    due = contact.due
    return ContactView(
        task_id=contact.task_id,
        version=contact.version,
        urgency=contact.urgency,
        urgency_label=words.get("urgencies", contact.urgency).display,
        route=words.table("contact_routes").get(contact.route, words.get("contact_routes", "phone")).display,
        came_from=words.table("contact_from").get(contact.came_from, words.get("contact_from", "professional")).display,
        what=contact.what or "Nothing recorded",
        sender=contact.sender,
        person=person or "Not yet identified",
        patient_id=contact.patient_id,
        received=day_and_time(contact.received),
        due=day_and_time(due),
        waiting=duration(contact.waiting(now)),
        overdue=contact.overdue(now),
        overdue_by=duration(now - due) if due and contact.overdue(now) else "",
        is_open=contact.is_open,
        outcome=words.get("triage_outcomes", outcome).display if outcome else "",
        decided=day_and_time(contact.decided),
        referral=contact.referral,
        reason=next((reasons[str(c)].display for c in reason_codes if str(c) in reasons), ""),
        notes=tuple(str(n.get("text") or "") for n in contact.task.get("note") or []),
    )
