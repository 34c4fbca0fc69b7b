"""Who an OIDC sign-in is in JoinedUp: their mapped role, their organisation (found by ODS code in the store's
directory) and their user reference (their PractitionerRole when the store holds one with the provider's role id).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from joinedup.fhir.search_request import parse_search
from joinedup.fhir.source import ODS_SYSTEM
from joinedup.settings import Settings

from ..handle import SystemHandle
from .role_mapping import MappedRole, map_role


@dataclass(frozen=True)
class OidcIdentity:
    account: str  # 'oidc:<subject>'
    user_ref: str
    name: str
    role: str
    provider_code: str
    organisation: str  # 'Organization/…'
    organisation_name: str


class Refused(Exception):
    """The provider vouched for the person, but JoinedUp does not let them in (the reason is for the audit)."""

    def __init__(self, why: str, message: str) -> None:
        super().__init__(message)
        self.why = why


def _first(system: SystemHandle, resource_type: str, params: list[tuple[str, str]]) -> dict[str, Any] | None:
    # The directory (organisations, staff roles) is visible to everyone signed in; this runs before anyone is, so
    # through the system's handle (audited as the system's sign-in look-up).
    page = system.search(parse_search(resource_type, [*params, ("_count", "1")]))
    return page.matches[0] if page.matches else None


def resolve(system: SystemHandle, claims: dict[str, Any], settings: Settings) -> OidcIdentity:
    subject = str(claims.get("sub") or "")
    mapped: MappedRole | None = map_role(claims, settings)
    if not subject:
        raise Refused("no-subject", "The identity provider did not say who you are")
    if mapped is None:
        raise Refused(
            "unmapped-role",
            "Your role at the identity provider does not give access to JoinedUp. Ask your organisation's "
            "registration authority or JoinedUp administrator to map it.",
        )
    if not mapped.org_code:
        raise Refused("no-organisation", "The identity provider did not say which organisation your role is at")
    organisation = _first(system, "Organization", [("identifier", f"{ODS_SYSTEM}|{mapped.org_code}")])
    if organisation is None:
        raise Refused("unknown-organisation", "Your organisation is not part of this shared care record")
    user_ref = f"Practitioner/{subject}"
    if mapped.role_id:
        staff_role = _first(system, "PractitionerRole", [("identifier", mapped.role_id)])
        user_ref = f"PractitionerRole/{staff_role['id']}" if staff_role else f"PractitionerRole/{mapped.role_id}"
    name = str(claims.get("name") or " ".join(str(claims.get(k) or "") for k in ("given_name", "family_name")))
    return OidcIdentity(
        account=f"oidc:{subject}",
        user_ref=user_ref,
        name=name.strip() or subject,
        role=mapped.role,
        provider_code=mapped.provider_code,
        organisation=f"Organization/{organisation['id']}",
        organisation_name=str(organisation.get("name") or ""),
    )
