"""The gate between the API/pages and the store.

Every path (read, search, history, $everything, writes, bundles, export) goes through an AccessGate, which turns
the caller's AccessContext into the StoreContext the store needs, so the rules of who may see what are added to
the SQL of each path in one place. The rules themselves (care relationships, consent, sensitivity, break-glass,
audit) are the information governance issue's; until it lands, `Policy` admits what the context's role may do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from joinedup.fhir.errors import Forbidden
from joinedup.fhir.search_request import SearchRequest
from joinedup.store.bundles import BundleProcessor, EntryResult
from joinedup.store.context import SeeEverything, StoreContext, Visibility
from joinedup.store.fhir_store import FhirStore, Outcome
from joinedup.store.results import HistoryPage, SearchPage, Version

from .context import AccessContext


class Policy(Protocol):
    def visibility(self, ctx: AccessContext) -> Visibility: ...

    def may_write(self, ctx: AccessContext, resource_type: str) -> bool: ...


class RolePolicy:
    """Before information governance lands: residents and analysts never write; everyone else sees everything."""

    READ_ONLY_ROLES = frozenset({"resident", "analyst"})

    def visibility(self, ctx: AccessContext) -> Visibility:
        return SeeEverything()

    def may_write(self, ctx: AccessContext, resource_type: str) -> bool:
        return ctx.role not in self.READ_ONLY_ROLES


class AccessGate:
    def __init__(self, store: FhirStore, policy: Policy | None = None) -> None:
        self.store = store
        self.policy: Policy = policy or RolePolicy()

    def _store_context(self, ctx: AccessContext) -> StoreContext:
        return StoreContext(
            actor=ctx.user,
            purpose=ctx.purpose,
            visibility=self.policy.visibility(ctx),
            strict_handling=ctx.strict_handling,
        )

    def _writing(self, ctx: AccessContext, resource_type: str) -> StoreContext:
        if not self.policy.may_write(ctx, resource_type):
            raise Forbidden(f"The role '{ctx.role}' may not change {resource_type} resources")
        return self._store_context(ctx)

    def read(self, ctx: AccessContext, resource_type: str, resource_id: str) -> Version:
        return self.store.read(self._store_context(ctx), resource_type, resource_id)

    def vread(self, ctx: AccessContext, resource_type: str, resource_id: str, version_id: int) -> Version:
        return self.store.vread(self._store_context(ctx), resource_type, resource_id, version_id)

    def search(self, ctx: AccessContext, request: SearchRequest) -> SearchPage:
        return self.store.search(self._store_context(ctx), request)

    def compartment_search(self, ctx: AccessContext, patient_id: str, request: SearchRequest) -> SearchPage:
        return self.store.compartment_search(self._store_context(ctx), patient_id, request)

    def history(
        self,
        ctx: AccessContext,
        resource_type: str | None,
        resource_id: str | None,
        since: int | None,
        count: int,
        offset: int,
    ) -> HistoryPage:
        return self.store.history(self._store_context(ctx), resource_type, resource_id, since, count, offset)

    def everything(
        self,
        ctx: AccessContext,
        patient_id: str,
        since: int | None,
        types: Sequence[str] | None,
        count: int,
        offset: int,
    ) -> SearchPage:
        return self.store.everything(self._store_context(ctx), patient_id, since, types, count, offset)

    def create(self, ctx: AccessContext, resource: dict[str, Any], if_none_exist: str | None) -> Outcome:
        return self.store.create(self._writing(ctx, str(resource.get("resourceType"))), resource, if_none_exist)

    def update(
        self, ctx: AccessContext, resource_type: str, resource_id: str, resource: dict[str, Any], if_match: int | None
    ) -> Outcome:
        return self.store.update(self._writing(ctx, resource_type), resource_type, resource_id, resource, if_match)

    def conditional_update(
        self, ctx: AccessContext, resource_type: str, query: str, resource: dict[str, Any]
    ) -> Outcome:
        return self.store.conditional_update(self._writing(ctx, resource_type), resource_type, query, resource)

    def patch(
        self, ctx: AccessContext, resource_type: str, resource_id: str, operations: Any, if_match: int | None
    ) -> Outcome:
        return self.store.patch(self._writing(ctx, resource_type), resource_type, resource_id, operations, if_match)

    def delete(self, ctx: AccessContext, resource_type: str, resource_id: str) -> Outcome:
        return self.store.delete(self._writing(ctx, resource_type), resource_type, resource_id)

    def conditional_delete(self, ctx: AccessContext, resource_type: str, query: str) -> list[Outcome]:
        return self.store.conditional_delete(self._writing(ctx, resource_type), resource_type, query)

    def transaction(self, ctx: AccessContext, bundle: dict[str, Any]) -> list[EntryResult]:
        return BundleProcessor(self.store).transaction(self._writing(ctx, "Bundle"), bundle)

    def batch(self, ctx: AccessContext, bundle: dict[str, Any], outcome_of: Any) -> list[EntryResult]:
        return BundleProcessor(self.store).batch(self._writing(ctx, "Bundle"), bundle, outcome_of)

    def store_context(self, ctx: AccessContext) -> StoreContext:
        """For long-running work the gate hands off (bulk export): the same visibility, fixed at kick-off."""
        return self._store_context(ctx)
