"""What every path of the gate checks before it reaches the store, and how it audits the call (decision 0005):
the caller's StoreContext (the policy's visibility added to the SQL), scopes, write permission, the visibility of
what a change names, and the audit entry written however the call ends. `AccessGate` builds on these."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Protocol

import orjson

from joinedup.fhir.errors import Forbidden, Gone, NotFound
from joinedup.store.context import SYSTEM, StoreContext, Visibility
from joinedup.store.fhir_store import FhirStore
from joinedup.store.results import Found, SearchPage

from .audit.subjects import patients_in
from .audit.trail import Actor, AuditTrail
from .context import AccessContext
from .pseudonymise import Pseudonymiser
from .scopes import parse_scopes
from .secondary_use import refuse_named_person
from .visibility import SecondaryUseVisibility


class Policy(Protocol):
    def visibility(self, ctx: AccessContext) -> Visibility: ...

    def may_write(self, ctx: AccessContext, resource_type: str) -> bool: ...

    def sees_everything(self, ctx: AccessContext) -> bool: ...


class GateChecks:
    """The checks and the audit wrapper the gate's paths share (the attributes are set by AccessGate)."""

    _store: FhirStore
    policy: Policy
    pseudonymiser: Pseudonymiser
    audit: AuditTrail

    def _store_context(self, ctx: AccessContext) -> StoreContext:
        visibility = self.policy.visibility(ctx)
        return StoreContext(
            actor=ctx.user,
            purpose=ctx.purpose,
            visibility=visibility,
            strict_handling=ctx.strict_handling,
            shown_as=self.pseudonymiser.raw if isinstance(visibility, SecondaryUseVisibility) else None,
        )

    def _naming_one(self, ctx: AccessContext, resource_type: str, interaction: str) -> StoreContext:
        """The store context of a call that names one resource: refused to secondary use for a personal one."""
        store_ctx = self._store_context(ctx)
        if store_ctx.shown_as is not None:
            refuse_named_person(resource_type, interaction)
        return store_ctx

    def _shown(self, store_ctx: StoreContext, page: SearchPage) -> SearchPage:
        """The page as this caller is shown it (pseudonymised for secondary use), after the audit has recorded
        the real ids of what came back."""
        if store_ctx.shown_as is None:
            return page
        return replace(page, found=self._shown_found(page.found), found_included=self._shown_found(page.found_included))

    def _shown_found(self, found: Sequence[Found]) -> list[Found]:
        pseudonymiser = self.pseudonymiser
        return [
            Found(
                f.resource_type,
                pseudonymiser.resource_id(f.resource_type, f.id),
                pseudonymiser.raw(f.resource_type, f.raw),
            )
            for f in found
        ]

    def _scoped(self, ctx: AccessContext, resource_type: str, interaction: str) -> None:
        if ctx.scopes is not None and not parse_scopes(ctx.scopes).permits(resource_type, interaction):
            raise Forbidden(f"The token's scopes do not allow '{interaction}' on {resource_type}")

    @contextmanager
    def _audited(
        self, ctx: AccessContext, action: str, what: list[str], patients: set[str]
    ) -> Iterator[dict[str, Any]]:
        """Record the call however it ends; the body adds what came back to `what`/`patients`/the detail."""
        detail: dict[str, Any] = {}
        try:
            yield detail
        except Exception as error:
            detail["error"] = type(error).__name__
            self.audit.record(Actor.of(ctx), action, "failure", what, patients, detail)
            raise
        self.audit.record(Actor.of(ctx), action, "success", what, patients, detail)

    def _writing(self, ctx: AccessContext, resource_type: str, interaction: str) -> StoreContext:
        self._scoped(ctx, resource_type, interaction)
        if not self.policy.may_write(ctx, resource_type):
            raise Forbidden(f"The role '{ctx.role}' may not change {resource_type} resources")
        return self._store_context(ctx)

    def _require_visible_existing(
        self, ctx: AccessContext, store_ctx: StoreContext, resource_type: str, resource_id: str
    ) -> None:
        """A change to an existing resource needs it to be visible; an invisible one answers 404 like a read."""
        if self.policy.sees_everything(ctx):
            return
        try:
            self._store.read(store_ctx, resource_type, resource_id)
        except Gone:
            return
        except NotFound:
            try:
                self._store.read(SYSTEM, resource_type, resource_id)
            except (NotFound, Gone):
                return  # a PUT that creates: nothing existing to protect
            raise NotFound(f"{resource_type}/{resource_id} is not known") from None

    def _require_related(self, ctx: AccessContext, store_ctx: StoreContext, resource: dict[str, Any]) -> None:
        """New content about a person needs a relationship with them (the same message whether or not they exist)."""
        if self.policy.sees_everything(ctx):
            return
        for patient_id in sorted(patients_in(str(resource.get("resourceType")), "", orjson.dumps(resource)) - {""}):
            try:
                self._store.read(store_ctx, "Patient", patient_id)
            except (NotFound, Gone):
                raise Forbidden(f"You have no care relationship with Patient/{patient_id}") from None

