"""Telecare alerts arrive as contacts (decision 0503): the telecare platform, a system client, creates a
Communication (category route `telecare`, from `telecare`, sender the person's Device, recipient the single point
of access) with a plain FHIR create; this after-write hook puts it in the triage queue as a same-day Task.

The person is the Communication's subject, else the Device's `patient` (the hook then sets the subject too). An
alert for nobody known is still queued, as an unidentified contact of the single point of access's organisation
(both resources carry its source tag, so its staff see them and identify the person later). A Communication that
already has its triage Task (every contact the intake form writes, or an alert seen before) gets nothing new.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from joinedup.access.gate import AccessGate
from joinedup.access.handle import CallerHandle
from joinedup.care.referrals.model import parse_instant, ref
from joinedup.care.vocabulary import vocabulary
from joinedup.fhir.errors import Gone, NotFound
from joinedup.fhir.search_request import parse_search
from joinedup.fhir.source import SOURCE_URI_PREFIX, ods_code_of, stamp_source

from .model import NewContact, triage_task_of

Resource = dict[str, Any]
PURPOSE = "care-triage-telecare"


def is_telecare_alert(communication: Resource) -> bool:
    categories = communication.get("category") or []
    system = vocabulary().system("contact_route")
    return bool(categories) and any(
        c.get("system") == system and c.get("code") == "telecare" for c in categories[0].get("coding") or []
    )


def _reference(value: Resource | None) -> str:
    return str((value or {}).get("reference") or "")


def _read(system: CallerHandle, reference: str) -> Resource:
    kind, _, rid = reference.partition("/")
    if not kind or not rid:
        return {}
    try:
        return dict(system.read(kind, rid).content or {})
    except (NotFound, Gone):
        return {}


def _ods_code(system: CallerHandle, spa: Resource) -> str | None:
    return ods_code_of(_read(system, _reference(spa.get("providedBy"))))


def queue_telecare_alert(system: CallerHandle, communication: Resource) -> str | None:
    """The triage Task for a telecare alert (its id), unless it has one already or names no service."""
    if not is_telecare_alert(communication) or not communication.get("id"):
        return None
    focus = f"Communication/{communication['id']}"
    known = system.search(parse_search("Task", [("focus", focus), ("_count", "1")]))
    if known.matches:
        return None
    spa_ref = next((_reference(r) for r in communication.get("recipient") or []
                    if _reference(r).startswith("HealthcareService/")), "")  # fmt: skip
    spa = _read(system, spa_ref)
    if not spa:
        return None
    patient = _reference(communication.get("subject")) or _reference(
        _read(system, _reference(communication.get("sender"))).get("patient")
    )
    sent = parse_instant(communication.get("sent")) or datetime.now(UTC)
    new = NewContact(spa=spa_ref, route="telecare", came_from="telecare", urgency="same-day", what="",
                     patient=patient or None)  # fmt: skip
    task = {**triage_task_of(new, sent), "focus": ref(focus), "description": "Triage a telecare alert"}
    code = _ods_code(system, spa)
    changed = copy.deepcopy(communication)
    if patient and not communication.get("subject"):
        changed["subject"] = ref(patient)
    if code is not None and not patient:  # nobody known: the SPA's organisation's own, so its staff see both
        stamp_source(task, f"{SOURCE_URI_PREFIX}{code}", code)
        stamp_source(changed, f"{SOURCE_URI_PREFIX}{code}", code)
    task_id = str(system.create(task).written.id)  # first: the Communication's update below finds it, adds nothing
    if changed != communication:
        system.update("Communication", str(communication["id"]), changed)
    return task_id


def register(gate: AccessGate) -> None:
    """care/install.py calls this: `triage_hooks.register(gate)`."""
    system = gate.for_system(PURPOSE)
    gate.after_write.register("Communication", "care.triage.telecare", lambda c: _queue_quietly(system, c))


def _queue_quietly(system: CallerHandle, communication: Resource) -> None:
    queue_telecare_alert(system, communication)
