"""The rules: which Visibility a caller gets, and what they may write. Decided from the role's capabilities.

- `record.read.unrestricted` (system clients, loading): everything their scopes allow.
- purpose `analytics` with `secondary-use.read` (analysts): everyone not opted out, nothing sensitive.
- `own-record.read` (residents): their own record.
- `record.read.clinical` (professionals): relationships, consent and sensitivity (visibility.CareVisibility).
- anything else (IG manager, administrator): directory data only.
"""

from __future__ import annotations

from joinedup.store.context import Visibility

from .context import AccessContext
from .permissions import (
    CARE_PLAN_WRITE,
    DIRECTORY_WRITE,
    OWN_RECORD_READ,
    RECORD_READ_CLINICAL,
    RECORD_READ_UNRESTRICTED,
    RECORD_WRITE_CLINICAL,
    RECORD_WRITE_SOCIAL_CARE,
    SECONDARY_USE_READ,
)
from .personal_types import PERSONAL_TYPES
from .relationships import Principal
from .roles import role
from .scopes import parse_scopes
from .visibility import CareVisibility, DirectoryOnly, OwnRecordVisibility, SecondaryUseVisibility, Unrestricted

CARE_PLANNING_TYPES = frozenset(
    {"CarePlan", "CareTeam", "Goal", "Task", "ServiceRequest", "Communication", "Consent", "List", "Flag"}
)


class GovernancePolicy:
    def visibility(self, ctx: AccessContext) -> Visibility:
        held = role(ctx.role)
        types = parse_scopes(ctx.scopes).readable_types() if ctx.scopes is not None else None
        if held.may(RECORD_READ_UNRESTRICTED):
            return Unrestricted(types)
        if ctx.purpose == "analytics":
            return SecondaryUseVisibility(types) if held.may(SECONDARY_USE_READ) else DirectoryOnly(types)
        if held.may(OWN_RECORD_READ):
            kind, _, patient_id = ctx.user.partition("/")
            if kind == "Patient" and patient_id:
                return OwnRecordVisibility(patient_id, held.sensitive, types)
            return DirectoryOnly(types)
        if held.may(RECORD_READ_CLINICAL):
            return CareVisibility(Principal.of(ctx.user, ctx.organisation), ctx.user, held.sensitive, types)
        return DirectoryOnly(types)

    def may_write(self, ctx: AccessContext, resource_type: str) -> bool:
        held = role(ctx.role)
        if ctx.purpose == "analytics":
            return False
        if resource_type not in PERSONAL_TYPES and resource_type != "Bundle":
            return held.may(DIRECTORY_WRITE)
        if resource_type in CARE_PLANNING_TYPES and held.may(CARE_PLAN_WRITE):
            return True
        return held.may(RECORD_WRITE_CLINICAL) or held.may(RECORD_WRITE_SOCIAL_CARE)

    def sees_everything(self, ctx: AccessContext) -> bool:
        return role(ctx.role).may(RECORD_READ_UNRESTRICTED)
