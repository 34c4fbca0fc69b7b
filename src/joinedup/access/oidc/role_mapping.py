"""From an ID token's claims to a JoinedUp role and organisation: the provider's role claim, mapped by settings.

CIS2 puts a list of role objects in `nhsid_nrbac_roles` (each with `role_code` like 'S0010:G0020:R8000', `org_code`
the ODS code and `person_roleid`) and the role the user chose at sign-in in `selected_roleid`. Other providers
put plain strings somewhere (`roles`, `realm_access.roles`); the claim path and field names are settings. A code
maps when `oidc_role_map` names the whole code or any one of its colon-separated parts. The chosen role is used
when there is one; otherwise the first role that maps. Nothing maps: the sign-in is refused (never a default
role), because a role granted by accident is access granted by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from joinedup.settings import Settings

from ..roles import catalogue

# Machines hold 'system'; a resident's record is theirs by NHS number, which a staff provider (CIS2) does not vouch
# for, so residents keep local accounts until NHS login is wired in.
NEVER_BY_SIGN_IN = frozenset({"system", "resident"})


@dataclass(frozen=True)
class MappedRole:
    role: str  # a JoinedUp role (roles.json)
    provider_code: str  # the provider's role code it came from, for the audit trail
    org_code: str | None  # ODS code of the organisation the role is held at
    role_id: str | None  # the provider's identifier of this role (CIS2 person_roleid)


def claim_at(claims: dict[str, Any], path: str) -> Any:
    """The value at a dotted path ('realm_access.roles'), or None."""
    value: Any = claims
    for part in path.split(".") if path else []:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _held_roles(claims: dict[str, Any], settings: Settings) -> list[tuple[str, str | None, str | None]]:
    """(code, ODS code, role id) of every role the claim lists."""
    raw = claim_at(claims, settings.oidc_roles_claim)
    items = raw if isinstance(raw, list) else [raw] if raw is not None else []
    fallback_org = claim_at(claims, settings.oidc_org_claim) if settings.oidc_org_claim else None
    held = []
    for item in items:
        if isinstance(item, dict):
            code = item.get(settings.oidc_role_code_field)
            org = item.get(settings.oidc_org_code_field, fallback_org)
            role_id = item.get(settings.oidc_role_id_field)
        else:
            code, org, role_id = item, fallback_org, None
        if isinstance(code, str) and code:
            held.append((code, org if isinstance(org, str) else None, None if role_id is None else str(role_id)))
    return held


def _joinedup_role(code: str, role_map: dict[str, str]) -> str | None:
    for candidate in (code, *code.split(":")):
        mapped = role_map.get(candidate)
        if mapped and catalogue().known(mapped) and mapped not in NEVER_BY_SIGN_IN:
            return mapped
    return None


def map_role(claims: dict[str, Any], settings: Settings) -> MappedRole | None:
    """The JoinedUp role for these claims, or None when no role the user holds (or chose) is mapped."""
    held = _held_roles(claims, settings)
    selected = claim_at(claims, settings.oidc_selected_role_claim) if settings.oidc_selected_role_claim else None
    if selected is not None:
        held = [h for h in held if h[2] == str(selected)]  # only the role they chose at the provider
    for code, org, role_id in held:
        mapped = _joinedup_role(code, settings.oidc_role_map)
        if mapped is not None:
            return MappedRole(mapped, code, org, role_id)
    return None


def provider_codes(claims: dict[str, Any], settings: Settings) -> list[str]:
    """The role codes the claim lists (for the audit entry of a refusal)."""
    return [code for code, _, _ in _held_roles(claims, settings)]
