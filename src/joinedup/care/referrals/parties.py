"""Who is who in a referral: the caller's teams, the receiving team's members, the sender and their organisation.

Staff, teams and organisations are directory data (every signed-in role reads them through its handle), so these
checks read through the caller's handle like everything else.
"""

from __future__ import annotations

from typing import Any

from joinedup.access.handle import CallerHandle
from joinedup.fhir.errors import Gone, NotFound

from .model import Referral

Resource = dict[str, Any]


def read_or_none(caller: CallerHandle, reference: str) -> Resource | None:
    kind, _, rid = reference.partition("/")
    if not kind or not rid:
        return None
    try:
        return caller.read(kind, rid).content
    except (NotFound, Gone):
        return None


def references(items: list[Any] | None) -> list[str]:
    return [str(i.get("reference")) for i in items or [] if isinstance(i, dict) and i.get("reference")]


def teams_of_role(caller: CallerHandle, role_reference: str) -> list[str]:
    """The teams (HealthcareService references) a PractitionerRole belongs to."""
    if not role_reference.startswith("PractitionerRole/"):
        return []
    role = read_or_none(caller, role_reference) or {}
    return [r for r in references(role.get("healthcareService")) if r.startswith("HealthcareService/")]


def my_teams(caller: CallerHandle) -> list[str]:
    return teams_of_role(caller, caller.context.user)


def organisation_of(caller: CallerHandle, reference: str) -> str | None:
    """The organisation a team, a member of staff or an organisation stands for."""
    if reference.startswith("Organization/"):
        return reference
    found = read_or_none(caller, reference) or {}
    owner = found.get("providedBy") if reference.startswith("HealthcareService/") else found.get("organization")
    return str(owner.get("reference")) if isinstance(owner, dict) and owner.get("reference") else None


def is_receiver(caller: CallerHandle, referral: Referral) -> bool:
    """A member of the receiving team, or a member of staff of the organisation that provides it."""
    team = referral.service
    if team in my_teams(caller):
        return True
    own = caller.context.organisation
    return own is not None and own == organisation_of(caller, team)


def is_member(caller: CallerHandle, team: str) -> bool:
    return team in my_teams(caller)


def is_sender(caller: CallerHandle, referral: Referral) -> bool:
    """Whoever sent it, or a member of staff of the sender's organisation."""
    sender = referral.sender
    if sender and sender == caller.context.user:
        return True
    own = caller.context.organisation
    return bool(sender) and own is not None and own == organisation_of(caller, sender)


def member_of(caller: CallerHandle, role_reference: str, team: str) -> Resource | None:
    """The PractitionerRole, when it is an active member of the team (None otherwise)."""
    role = read_or_none(caller, role_reference) if role_reference.startswith("PractitionerRole/") else None
    if role is None or role.get("active") is False or team not in references(role.get("healthcareService")):
        return None
    return role


def display_name(caller: CallerHandle, reference: str, cache: dict[str, str] | None = None) -> str:
    """A person's, team's or organisation's name for a page: 'Eileen Okafor (Saltmoor Community Health Services)'
    for a member of staff. Falls back to 'a member of staff' when nothing can be read."""
    if cache is not None and reference in cache:
        return cache[reference]
    found = read_or_none(caller, reference) or {}
    kind = reference.partition("/")[0]
    name = ""
    if kind in {"HealthcareService", "Organization"}:
        name = str(found.get("name") or "")
    elif kind == "PractitionerRole":
        practitioner = read_or_none(caller, str((found.get("practitioner") or {}).get("reference") or "")) or {}
        name = _human_name(practitioner)
        organisation = read_or_none(caller, str((found.get("organization") or {}).get("reference") or "")) or {}
        if organisation.get("name"):
            name = f"{name} ({organisation['name']})" if name else str(organisation["name"])
    elif kind == "Patient":
        name = _human_name(found)
    name = name or ("the system" if kind == "Device" else "a member of staff")
    if cache is not None:
        cache[reference] = name
    return name


def _human_name(resource: Resource) -> str:
    for name in resource.get("name") or []:
        parts = [*(name.get("given") or []), name.get("family") or ""]
        text = " ".join(p for p in parts if p)
        if text:
            return text
    return ""


def display_name_of_patient(patient: Resource) -> str:
    return _human_name(patient) or "A person with no name recorded"
