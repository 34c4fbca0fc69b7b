"""The gate between the API/pages and the store.

Nothing outside `access/` calls the gate's methods with a context of its own choosing: the gate makes one handle per
caller (`for_caller(context)`, or `for_system(purpose)` for the system's own work) and routes, pages and services
receive only that handle (decision 0313). The store itself is private to the gate.

Every path (read, search, history, $everything, writes, bundles, export) goes through an AccessGate, which turns
the caller's AccessContext into the StoreContext the store needs — the policy's visibility condition, added to the
SQL of each path — and records an audit entry for each call (with what came back), success or failure.

Records the caller may not see answer 404, as if they did not exist (decision 0301): a 403 would tell a
professional without a relationship that the person has a record there.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from joinedup.fhir.errors import Forbidden, Gone, NotFound
from joinedup.fhir.search_request import SearchRequest
from joinedup.store.bundles import BundleProcessor, EntryResult
from joinedup.store.context import StoreContext
from joinedup.store.engine import make_engine
from joinedup.store.export import ExportJobs, ExportRequest, ExportStatus, requested_by
from joinedup.store.fhir_store import FhirStore, Outcome
from joinedup.store.results import Found, HistoryPage, SearchPage, Version

from .accounts.store import AccountStore
from .accounts.tokens import TokenService
from .audit.exports import export_recorder
from .audit.subjects import patients_in, patients_of_all
from .audit.trail import AuditTrail
from .break_glass import BreakGlass
from .capabilities import Capability
from .context import AccessContext
from .gate_checks import GateChecks, Policy
from .handle import CallerHandle, SystemHandle
from .hooks import AfterWriteHooks
from .policy import GovernancePolicy
from .pseudonymise import Pseudonymiser
from .relationship_starts import RelationshipStarts, check_trace
from .secondary_use import refuse_identifying_search
from .visibility import CareVisibility, OwnRecordVisibility, Unrestricted, Withheld

DEFAULT_BREAK_GLASS_SECONDS = 4 * 3600


def _found(items: Sequence[Found]) -> list[tuple[str, str, bytes | None]]:
    return [(f.resource_type, f.id, f.raw) for f in items]


class AccessGate(GateChecks):
    def __init__(
        self,
        store: FhirStore,
        policy: Policy | None = None,
        break_glass_seconds: int = DEFAULT_BREAK_GLASS_SECONDS,
        pseudonymiser: Pseudonymiser | None = None,
        export_dir: Path | None = None,
    ) -> None:
        self._store = store
        self.policy: Policy = policy or GovernancePolicy()
        # Without the deployment's key (tools that never serve analytics), pseudonyms are stable for this gate only.
        self.pseudonymiser = pseudonymiser or Pseudonymiser(secrets.token_bytes(32))
        self.audit = AuditTrail(store.engine)
        self.break_glass = BreakGlass(store.engine, self.audit, break_glass_seconds)
        self.accounts = AccountStore(store.engine, self.audit)
        self.tokens = TokenService(store.engine, self.audit)
        self.after_write = AfterWriteHooks()
        self.relationship_starts = RelationshipStarts()
        self._org_codes = {}
        # Bulk export jobs are made here, from the private store, and reached only through a caller's handle.
        # Each finished export names in the audit every person its files include (decision 0312).
        self._exports = ExportJobs(store, export_dir or Path("var/exports"), on_finished=export_recorder(self.audit))

    @classmethod
    def open(cls, database_url: str, **options: Any) -> AccessGate:
        """A gate on the store at `database_url` (its engine made here, so callers never hold the store)."""
        return cls(FhirStore(make_engine(database_url)), **options)

    def close(self) -> None:
        self._store.engine.dispose()

    # --- handles -----------------------------------------------------------------------------------------------
    def for_caller(self, ctx: AccessContext) -> CallerHandle:
        """The one handle this caller's routes, pages and services use: a small object, no I/O to make."""
        return CallerHandle(self, ctx)

    def for_system(self, purpose: str) -> SystemHandle:
        """The system's own work (linking, sign-in look-ups, the IG reports' names, population views), audited as
        'Device/<purpose>' with the unrestricted system role."""
        return SystemHandle(self, purpose)

    # --- reads ---------------------------------------------------------------------------------------------
    def read(self, ctx: AccessContext, resource_type: str, resource_id: str) -> Version:
        target = f"{resource_type}/{resource_id}"
        patients = {resource_id} if resource_type == "Patient" else set()
        with self._audited(ctx, "read", [target], patients):
            self._scoped(ctx, resource_type, "r")
            version = self._store.read(self._naming_one(ctx, resource_type, "a read"), resource_type, resource_id)
            patients |= patients_in(resource_type, resource_id, version.raw)
            return version

    def vread(self, ctx: AccessContext, resource_type: str, resource_id: str, version_id: int) -> Version:
        target = f"{resource_type}/{resource_id}/_history/{version_id}"
        patients = {resource_id} if resource_type == "Patient" else set()
        with self._audited(ctx, "vread", [target], patients):
            self._scoped(ctx, resource_type, "r")
            store_ctx = self._naming_one(ctx, resource_type, "a version read")
            version = self._store.vread(store_ctx, resource_type, resource_id, version_id)
            patients |= patients_in(resource_type, resource_id, version.raw)
            return version

    def _search_audit(self, detail: dict[str, Any], what: list[str], patients: set[str], page: SearchPage) -> None:
        found = _found(page.found) + _found(page.found_included)
        what.extend(f"{t}/{i}" for t, i, _ in found)
        patients |= patients_of_all(found)
        detail["returned"] = len(found)

    def search(self, ctx: AccessContext, request: SearchRequest) -> SearchPage:
        what: list[str] = []
        patients: set[str] = set()
        with self._audited(ctx, "search", what, patients) as detail:
            detail["query"] = request.resource_type
            self._scoped(ctx, request.resource_type, "s")
            store_ctx = self._store_context(ctx)
            if store_ctx.shown_as is not None:
                refuse_identifying_search(request)
            page = self._store.search(store_ctx, request)
            self._search_audit(detail, what, patients, page)
            return self._shown(store_ctx, page)

    def trace(self, ctx: AccessContext, capability: Capability, request: SearchRequest) -> SearchPage:
        """Find a person across the whole place by their demographics (relationship_starts.py): Patients only."""
        what: list[str] = []
        patients: set[str] = set()
        with self._audited(ctx, "trace", what, patients) as detail:
            detail["query"] = request.resource_type
            self.relationship_starts.may_trace(ctx.role, capability)
            check_trace(request)
            store_ctx = replace(self._store_context(ctx), visibility=Unrestricted(frozenset({"Patient"})))
            page = self._store.search(store_ctx, request)
            self._search_audit(detail, what, patients, page)
            return page

    def compartment_search(self, ctx: AccessContext, patient_id: str, request: SearchRequest) -> SearchPage:
        what: list[str] = []
        patients: set[str] = {patient_id}
        with self._audited(ctx, "search", what, patients) as detail:
            detail["query"] = f"Patient/{patient_id}/{request.resource_type}"
            self._scoped(ctx, request.resource_type, "s")
            store_ctx = self._naming_one(ctx, "Patient", "a compartment search")
            page = self._store.compartment_search(store_ctx, patient_id, request)
            self._search_audit(detail, what, patients, page)
            return page

    def history(
        self,
        ctx: AccessContext,
        resource_type: str | None,
        resource_id: str | None,
        since: int | None,
        count: int,
        offset: int,
    ) -> HistoryPage:
        what: list[str] = []
        patients: set[str] = set()
        with self._audited(ctx, "history", what, patients) as detail:
            detail["query"] = "/".join(p for p in (resource_type, resource_id) if p) or "system"
            self._scoped(ctx, resource_type or "*", "r")
            if resource_type and resource_id:
                store_ctx = self._naming_one(ctx, resource_type, "the history")
            else:
                store_ctx = self._store_context(ctx)
            page = self._store.history(store_ctx, resource_type, resource_id, since, count, offset)
            what.extend(f"{v.resource_type}/{v.id}/_history/{v.version_id}" for v in page.versions)
            patients |= patients_of_all((v.resource_type, v.id, v.raw) for v in page.versions)
            if store_ctx.shown_as is None:
                return page
            pseudonymiser = self.pseudonymiser
            shown = [
                replace(
                    v,
                    id=pseudonymiser.resource_id(v.resource_type, v.id),
                    raw=None if v.raw is None else pseudonymiser.raw(v.resource_type, v.raw),
                )
                for v in page.versions
            ]
            return replace(page, versions=shown)

    def everything(
        self,
        ctx: AccessContext,
        patient_id: str,
        since: int | None,
        types: Sequence[str] | None,
        count: int,
        offset: int,
    ) -> SearchPage:
        what: list[str] = []
        patients: set[str] = {patient_id}
        with self._audited(ctx, "everything", what, patients) as detail:
            detail["query"] = f"Patient/{patient_id}/$everything"
            self._scoped(ctx, "Patient", "r")
            store_ctx = self._naming_one(ctx, "Patient", "$everything")
            page = self._store.everything(store_ctx, patient_id, since, types, count, offset)
            what.extend(f"{f.resource_type}/{f.id}" for f in page.found)
            detail["returned"] = len(page.found)
            return page

    # --- writes --------------------------------------------------------------------------------------------
    def _write_audit(self, detail: dict[str, Any], what: list[str], patients: set[str], outcome: Outcome) -> None:
        written = outcome.written
        what.append(f"{written.resource_type}/{written.id}/_history/{written.version_id}")
        if written.resource is not None:
            patients |= patients_in(written.resource_type, written.id, orjson.dumps(written.resource))
        detail["changed"] = written.changed

    def create(self, ctx: AccessContext, resource: dict[str, Any], if_none_exist: str | None) -> Outcome:
        resource_type = str(resource.get("resourceType"))
        what: list[str] = []
        patients: set[str] = set()
        with self._audited(ctx, "create", what, patients) as detail:
            store_ctx = self._writing(ctx, resource_type, "c")
            self._require_related(ctx, store_ctx, resource)
            outcome = self._store.create(store_ctx, self._stamped(ctx, resource), if_none_exist)
            self._write_audit(detail, what, patients, outcome)
        self._after(outcome)
        return outcome

    def update(
        self, ctx: AccessContext, resource_type: str, resource_id: str, resource: dict[str, Any], if_match: int | None
    ) -> Outcome:
        what: list[str] = [f"{resource_type}/{resource_id}"]
        patients: set[str] = set()
        with self._audited(ctx, "update", what, patients) as detail:
            store_ctx = self._writing(ctx, resource_type, "u")
            self._require_visible_existing(ctx, store_ctx, resource_type, resource_id)
            self._require_related(ctx, store_ctx, resource)
            outcome = self._store.update(store_ctx, resource_type, resource_id, self._stamped(ctx, resource), if_match)
            self._write_audit(detail, what, patients, outcome)
        self._after(outcome)
        return outcome

    def conditional_update(
        self, ctx: AccessContext, resource_type: str, query: str, resource: dict[str, Any]
    ) -> Outcome:
        what: list[str] = []
        patients: set[str] = set()
        with self._audited(ctx, "update", what, patients) as detail:
            store_ctx = self._writing(ctx, resource_type, "u")
            self._require_related(ctx, store_ctx, resource)
            if not self.policy.sees_everything(ctx):
                raise Forbidden("Conditional update is for system clients")  # its search could match unseen ones
            outcome = self._store.conditional_update(store_ctx, resource_type, query, resource)
            self._write_audit(detail, what, patients, outcome)
        self._after(outcome)
        return outcome

    def patch(
        self, ctx: AccessContext, resource_type: str, resource_id: str, operations: Any, if_match: int | None
    ) -> Outcome:
        what: list[str] = [f"{resource_type}/{resource_id}"]
        patients: set[str] = set()
        with self._audited(ctx, "update", what, patients) as detail:
            store_ctx = self._writing(ctx, resource_type, "u")
            outcome = self._store.patch(store_ctx, resource_type, resource_id, operations, if_match)
            self._write_audit(detail, what, patients, outcome)
        self._after(outcome)
        return outcome

    def delete(self, ctx: AccessContext, resource_type: str, resource_id: str) -> Outcome:
        what: list[str] = [f"{resource_type}/{resource_id}"]
        patients: set[str] = {resource_id} if resource_type == "Patient" else set()
        with self._audited(ctx, "delete", what, patients) as detail:
            store_ctx = self._writing(ctx, resource_type, "d")
            self._require_visible_existing(ctx, store_ctx, resource_type, resource_id)
            outcome = self._store.delete(store_ctx, resource_type, resource_id)
            detail["changed"] = outcome.written.changed
            return outcome

    def conditional_delete(self, ctx: AccessContext, resource_type: str, query: str) -> list[Outcome]:
        what: list[str] = []
        with self._audited(ctx, "delete", what, set()):
            store_ctx = self._writing(ctx, resource_type, "d")
            if not self.policy.sees_everything(ctx):
                raise Forbidden("Conditional delete is for system clients")
            outcomes = self._store.conditional_delete(store_ctx, resource_type, query)
            what.extend(f"{o.written.resource_type}/{o.written.id}" for o in outcomes)
            return outcomes

    def _bundle_context(self, ctx: AccessContext) -> StoreContext:
        store_ctx = self._writing(ctx, "Bundle", "c")
        if not self.policy.sees_everything(ctx):
            # Entry-by-entry relationship checks inside a Bundle are not wired yet; until they are, Bundles are
            # for system clients (feeds), whose access is unrestricted anyway.
            raise Forbidden("Bundles are accepted from system clients only")
        return store_ctx

    def write_together(self, ctx: AccessContext, bundle: dict[str, Any]) -> list[EntryResult]:
        """A care service's writes that must land together (a referral's ServiceRequest and Task, say), made as one
        transaction Bundle for a caller of any role: each entry is checked as the same single write would be
        (write permission, scopes, a relationship with every person it names, the existing resource visible), and
        conditional or read entries are refused. The HTTP Bundle endpoint stays for system clients (decision 0500)."""
        what: list[str] = []
        with self._audited(ctx, "transaction", what, set()) as detail:
            store_ctx = self._store_context(ctx)
            if not self.policy.sees_everything(ctx):
                self._check_entries(ctx, store_ctx, bundle)
            results = BundleProcessor(self._store).transaction(store_ctx, self._stamped_bundle(ctx, bundle))
            detail["entries"] = len(results)
            what.extend(r.location.split("/_history/")[0] for r in results if r.location)
        self._after_entries(results)
        return results

    def transaction(self, ctx: AccessContext, bundle: dict[str, Any]) -> list[EntryResult]:
        what: list[str] = []
        with self._audited(ctx, "transaction", what, set()) as detail:
            results = BundleProcessor(self._store).transaction(self._bundle_context(ctx), bundle)
            detail["entries"] = len(results)
        self._after_entries(results)
        return results

    def batch(self, ctx: AccessContext, bundle: dict[str, Any], outcome_of: Any) -> list[EntryResult]:
        what: list[str] = []
        with self._audited(ctx, "batch", what, set()) as detail:
            results = BundleProcessor(self._store).batch(self._bundle_context(ctx), bundle, outcome_of)
            detail["entries"] = len(results)
        self._after_entries(results)
        return results

    # --- after-write hooks (decision 0314) -----------------------------------------------------------------------
    def _after(self, outcome: Outcome) -> None:
        written = outcome.written
        if written.changed and self.after_write.wants(written.resource_type):
            self.after_write.run([written.resource])

    def _after_entries(self, results: Sequence[EntryResult]) -> None:
        """Each entry a Bundle wrote (a location with a version); its reads and failed entries are not writes."""
        self.after_write.run(r.resource for r in results if r.location and "/_history/" in r.location)

    # --- bulk export jobs ------------------------------------------------------------------------------------
    def export_kick_off(self, ctx: AccessContext, request: ExportRequest) -> str:
        """The job runs with the caller's visibility, fixed at kick-off, and the kick-off is audited (what was asked
        for; the files written are listed in the job's manifest). Secondary use exports everyone it may see or
        nobody: a group can be one person, so a group's export is refused."""
        group_id = request.group_id
        what = "export" if group_id is None else f"Group/{group_id}/$export"
        with self._audited(ctx, "export", [what], set()):
            if group_id is not None:
                store_ctx = self._naming_one(ctx, "Group", "a bulk export")
            else:
                store_ctx = self._store_context(ctx)
        return self._exports.kick_off(store_ctx, request)

    def _own_export(self, ctx: AccessContext, job_id: str) -> None:
        """An export job's status, files and cancelling are for whoever started it: its files hold what *their*
        visibility allowed, so anyone else (whatever their role) is answered 404, as for a job that does not exist.
        The matrix found these open to any caller holding the job's URL."""
        with self._audited(ctx, "export-status", [f"export-job/{job_id}"], set()):
            if requested_by(self._store, job_id) != ctx.user:
                raise NotFound(f"No export job '{job_id}'")

    def export_status(self, ctx: AccessContext, job_id: str) -> ExportStatus:
        self._own_export(ctx, job_id)
        return self._exports.status(job_id)

    def export_cancel(self, ctx: AccessContext, job_id: str) -> None:
        self._own_export(ctx, job_id)
        self._exports.cancel(job_id)

    def export_file(self, ctx: AccessContext, job_id: str, name: str) -> Path:
        self._own_export(ctx, job_id)
        return self._exports.file_path(job_id, name)

    # --- what the pages need besides reads -----------------------------------------------------------------
    def withholds(self, ctx: AccessContext, patient_id: str) -> bool:
        """Whether consent or sensitivity rules keep back anything of this person's record from the caller: a yes
        or no only, so the notice never tells how much or what kind (decision 0302)."""
        full = self.policy.visibility(ctx)
        if not isinstance(full, CareVisibility | OwnRecordVisibility):
            return False
        held_back = Withheld(shown=full, related=replace(full, enforce_withholding=False))
        try:
            asker = StoreContext(actor=ctx.user, visibility=full)
            return self._store.everything_includes_any(asker, patient_id, held_back)
        except (NotFound, Gone):
            return False
