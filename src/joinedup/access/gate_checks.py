"""What every path of the gate checks before it reaches the store, and how it audits the call (decision 0005):
the caller's StoreContext (the policy's visibility added to the SQL), scopes, write permission, the visibility of
what a change names, and the audit entry written however the call ends. `AccessGate` builds on these."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import replace
from typing import Any, Protocol

import orjson

from joinedup.fhir.errors import Forbidden, Gone, NotFound
from joinedup.fhir.source import SOURCE_URI_PREFIX, ods_code_of, stamp_source
from joinedup.store.context import SYSTEM, StoreContext, Visibility
from joinedup.store.fhir_store import FhirStore
from joinedup.store.results import Found, SearchPage

from .audit.subjects import patients_in
from .audit.trail import Actor, AuditTrail
from .context import AccessContext
from .personal_types import PERSONAL_TYPES
from .pseudonymise import Pseudonymiser
from .relationship_starts import RelationshipStarts
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
    relationship_starts: RelationshipStarts
    _org_codes: dict[str, str | None]  # 'Organization/<id>' → its ODS code, for stamping callers' writes

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

    def _starts_relationship(self, ctx: AccessContext, resource_type: str, patient_id: str) -> bool:
        """A registered front door's work about a person who exists starts the relationship (relationship_starts)."""
        capability = self.relationship_starts.capability_for(ctx.role, resource_type)
        if capability is None:
            return False
        try:
            self._store.read(SYSTEM, "Patient", patient_id)
        except (NotFound, Gone):
            return False
        self.audit.record(
            Actor.of(ctx), "relationship-start", "success", [f"Patient/{patient_id}"], {patient_id},
            {"capability": str(capability), "by": resource_type},
        )  # fmt: skip
        return True

    def _require_related(self, ctx: AccessContext, store_ctx: StoreContext, resource: dict[str, Any]) -> None:
        """New content about a person needs a relationship with them (the same message whether or not they exist)."""
        if self.policy.sees_everything(ctx):
            return
        resource_type = str(resource.get("resourceType"))
        for patient_id in sorted(patients_in(resource_type, "", orjson.dumps(resource)) - {""}):
            try:
                self._store.read(store_ctx, "Patient", patient_id)
            except (NotFound, Gone):
                if not self._starts_relationship(ctx, resource_type, patient_id):
                    raise Forbidden(f"You have no care relationship with Patient/{patient_id}") from None

    # --- what a caller writes carries their organisation, and a care service's transaction is checked entry by entry
    def _organisation_code(self, organisation: str) -> str | None:
        """The ODS code of 'Organization/<id>' (read as the system: the caller's own directory entry), kept per gate."""
        if organisation not in self._org_codes:
            kind, _, org_id = organisation.partition("/")
            found: dict[str, Any] = {}
            if kind == "Organization" and org_id:
                with suppress(NotFound, Gone):
                    found = self._store.read(SYSTEM, "Organization", org_id).content or {}
            self._org_codes[organisation] = ods_code_of(found)
        return self._org_codes[organisation]

    def _stamped(self, ctx: AccessContext, resource: dict[str, Any]) -> dict[str, Any]:
        """A professional's new content about a person says which organisation wrote it (the source tag), as a
        partner's feed does: the record is a union, and 'written by your own organisation' is a rule of the gate
        (visibility.CareVisibility). A resource that already says where it came from keeps it. The caller's own
        dict is left as it was (a copy is stamped)."""
        if ctx.organisation is None or resource.get("resourceType") not in PERSONAL_TYPES:
            return resource
        code = self._organisation_code(ctx.organisation)
        if code is None:
            return resource
        meta = dict(resource.get("meta") or {})
        meta["tag"] = list(meta.get("tag") or [])
        copy = {**resource, "meta": meta}
        stamp_source(copy, f"{SOURCE_URI_PREFIX}{code}", code)
        return copy

    def _stamped_bundle(self, ctx: AccessContext, bundle: dict[str, Any]) -> dict[str, Any]:
        entries = []
        for entry in bundle.get("entry") or []:
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(resource, dict):
                entry = {**entry, "resource": self._stamped(ctx, resource)}
            entries.append(entry)
        return {**bundle, "entry": entries}

    def _check_entries(self, ctx: AccessContext, store_ctx: StoreContext, bundle: dict[str, Any]) -> None:
        """Each entry of a caller's transaction checked as the single write it stands for."""
        if bundle.get("type") != "transaction":
            raise Forbidden("A care service's writes go together as one transaction")
        for index, entry in enumerate(bundle.get("entry") or []):
            request = entry.get("request") if isinstance(entry, dict) else None
            if not isinstance(request, dict):
                raise Forbidden(f"Entry {index} has no request")
            method = str(request.get("method") or "")
            url = str(request.get("url") or "").lstrip("/")
            if method not in {"POST", "PUT", "DELETE"} or "?" in url or request.get("ifNoneExist"):
                raise Forbidden(f"Entry {index}: only plain creates, updates and deletes may go together")
            resource_type, _, resource_id = url.partition("/")
            self._writing(ctx, resource_type, {"POST": "c", "PUT": "u", "DELETE": "d"}[method])
            if method != "POST":
                self._require_visible_existing(ctx, store_ctx, resource_type, resource_id.partition("/")[0])
            resource = entry.get("resource")
            if isinstance(resource, dict):
                if resource.get("resourceType") != resource_type:
                    raise Forbidden(f"Entry {index}'s resource is not a {resource_type}")
                self._require_related(ctx, store_ctx, resource)
