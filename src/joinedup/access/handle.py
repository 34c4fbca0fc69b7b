"""One handle per caller (decision 0313): what routes, pages and services hold instead of the gate or the store.

`gate.for_caller(context)` binds the caller's AccessContext to the gate: every method is checked and audited as the
gate's own path is, and no method takes a context, so code holding a handle cannot act as anyone else. A handle is
two references (no I/O, nothing read to make it), so making one per request costs nothing on the hot read path
(decisions 0010, 0016, 0017). `gate.for_system(purpose)` is the system's own handle, audited as
'Device/<purpose>' (software, as FHIR names it), with the few extra things only system work needs: an audited bulk
write for the person index, an audited read of every current resource for the population views.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from joinedup.fhir.errors import Forbidden
from joinedup.fhir.search_request import SearchRequest, parse_search
from joinedup.fhir.validation import validate_resource
from joinedup.store.bulk_writer import Prepared, write_batch
from joinedup.store.bundles import EntryResult
from joinedup.store.export import ExportRequest, ExportStatus
from joinedup.store.fhir_store import Outcome
from joinedup.store.results import HistoryPage, SearchPage, Version

from .audit.subjects import patients_of_all
from .audit.trail import AuditEntry
from .break_glass import Grant
from .capabilities import Capability
from .context import AccessContext
from .permissions import AUDIT_REVIEW, BREAK_GLASS_REVIEW, OWN_ACCESS_LOG_READ
from .roles import catalogue

if TYPE_CHECKING:
    from .gate import AccessGate
    from .ig.unusual import Finding

__all__ = ["CallerHandle", "EntryResult", "Outcome", "SystemHandle"]

CONTENTS_CHUNK = 100  # ids per search when the system reads many resources by id (one audit entry each)


class CallerHandle:
    __slots__ = ("_gate", "context")

    def __init__(self, gate: AccessGate, context: AccessContext) -> None:
        self._gate = gate
        self.context = context

    # --- capabilities ---------------------------------------------------------------------------------------
    def may(self, capability: Capability) -> bool:
        cat = catalogue()
        return cat.known(self.context.role) and cat.get(self.context.role).may(capability)

    def require(self, capability: Capability) -> None:
        if not self.may(capability):
            raise Forbidden(f"The role '{self.context.role}' may not do this ({capability})")

    # --- reads ----------------------------------------------------------------------------------------------
    def read(self, resource_type: str, resource_id: str) -> Version:
        return self._gate.read(self.context, resource_type, resource_id)

    def vread(self, resource_type: str, resource_id: str, version_id: int) -> Version:
        return self._gate.vread(self.context, resource_type, resource_id, version_id)

    def search(self, request: SearchRequest) -> SearchPage:
        return self._gate.search(self.context, request)

    def trace(self, capability: Capability, request: SearchRequest) -> SearchPage:
        """Find a person across the place by NHS number or name and date of birth (a registered front door only)."""
        return self._gate.trace(self.context, capability, request)

    def compartment_search(self, patient_id: str, request: SearchRequest) -> SearchPage:
        return self._gate.compartment_search(self.context, patient_id, request)

    def history(
        self, resource_type: str | None, resource_id: str | None, since: int | None, count: int, offset: int
    ) -> HistoryPage:
        return self._gate.history(self.context, resource_type, resource_id, since, count, offset)

    def everything(
        self, patient_id: str, since: int | None, types: Sequence[str] | None, count: int, offset: int
    ) -> SearchPage:
        return self._gate.everything(self.context, patient_id, since, types, count, offset)

    def withholds(self, patient_id: str) -> bool:
        return self._gate.withholds(self.context, patient_id)

    # --- writes ---------------------------------------------------------------------------------------------
    def create(self, resource: dict[str, Any], if_none_exist: str | None = None) -> Outcome:
        return self._gate.create(self.context, resource, if_none_exist)

    def update(
        self, resource_type: str, resource_id: str, resource: dict[str, Any], if_match: int | None = None
    ) -> Outcome:
        return self._gate.update(self.context, resource_type, resource_id, resource, if_match)

    def conditional_update(self, resource_type: str, query: str, resource: dict[str, Any]) -> Outcome:
        return self._gate.conditional_update(self.context, resource_type, query, resource)

    def patch(self, resource_type: str, resource_id: str, operations: Any, if_match: int | None = None) -> Outcome:
        return self._gate.patch(self.context, resource_type, resource_id, operations, if_match)

    def delete(self, resource_type: str, resource_id: str) -> Outcome:
        return self._gate.delete(self.context, resource_type, resource_id)

    def conditional_delete(self, resource_type: str, query: str) -> list[Outcome]:
        return self._gate.conditional_delete(self.context, resource_type, query)

    def transaction(self, bundle: dict[str, Any]) -> list[EntryResult]:
        return self._gate.transaction(self.context, bundle)

    def write_together(self, bundle: dict[str, Any]) -> list[EntryResult]:
        """A care service's writes as one transaction, each entry checked as its single write would be."""
        return self._gate.write_together(self.context, bundle)

    def batch(self, bundle: dict[str, Any], outcome_of: Any) -> list[EntryResult]:
        return self._gate.batch(self.context, bundle, outcome_of)

    # --- bulk export jobs -----------------------------------------------------------------------------------
    def export(self, kind: str, types: Sequence[str], since: int | None, group_id: str | None, url: str) -> str:
        """Kick off a job with this caller's visibility; returns the job's id."""
        return self._gate.export_kick_off(self.context, ExportRequest(kind, tuple(types), since, group_id, url))

    def export_status(self, job_id: str) -> ExportStatus:
        return self._gate.export_status(self.context, job_id)

    def export_cancel(self, job_id: str) -> None:
        self._gate.export_cancel(self.context, job_id)

    def export_file(self, job_id: str, name: str) -> Path:
        return self._gate.export_file(self.context, job_id, name)

    # --- the audit trail, break-glass and subject access (governance) ---------------------------------------
    def own_access_log(self, limit: int = 500) -> list[AuditEntry]:
        """A resident's 'who looked at my record': the entries about the caller's own Patient record."""
        self.require(OWN_ACCESS_LOG_READ)
        kind, _, patient_id = self.context.user.partition("/")
        if kind != "Patient" or not patient_id:
            raise Forbidden("Only a resident has an access log of their own")
        return self._gate.audit.about_patient(patient_id, limit)

    def audit_between(self, start: int, end: int) -> list[AuditEntry]:
        self.require(AUDIT_REVIEW)
        return self._gate.audit.between(start, end)

    def audit_entries(self, seqs: Sequence[int]) -> list[AuditEntry]:
        self.require(AUDIT_REVIEW)
        return self._gate.audit.numbered(list(seqs))

    def unusual_access(self, start: int, end: int) -> list[Finding]:
        """The IG report over a period; the names and addresses it compares are read by the system, audited."""
        from .ig.unusual import unusual_access

        entries = self.audit_between(start, end)
        return unusual_access(self._gate.for_system("unusual-access"), entries)

    def subject_access(self, patient_id: str) -> dict[str, Any]:
        from .ig.subject_access import assemble

        return assemble(self._gate, self.context, patient_id)

    def open_break_glass(self, patient_id: str, reason: str) -> Grant:
        return self._gate.break_glass.open(self.context, patient_id, reason)

    def break_glass_awaiting_review(self) -> list[Grant]:
        self.require(BREAK_GLASS_REVIEW)
        return self._gate.break_glass.awaiting_review()

    def review_break_glass(self, grant_id: str, note: str) -> None:
        self._gate.break_glass.review(self.context, grant_id, note)

    @property
    def break_glass_hours(self) -> float:
        return self._gate.break_glass.duration_micros / 3_600_000_000


class SystemHandle(CallerHandle):
    """The system's own work: unrestricted, and audited as 'Device/<purpose>' with the role 'system'."""

    __slots__ = ("purpose",)

    def __init__(self, gate: AccessGate, purpose: str) -> None:
        context = AccessContext(user=f"Device/{purpose}", role="system", purpose="operations", via="system")
        super().__init__(gate, context)
        self.purpose = purpose

    def contents(self, resource_type: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Many resources by id, a search per CONTENTS_CHUNK ids (one audit entry each, not one per read)."""
        wanted = sorted(set(ids))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), CONTENTS_CHUNK):
            chunk = wanted[start : start + CONTENTS_CHUNK]
            request = parse_search(resource_type, [("_id", ",".join(chunk)), ("_count", str(len(chunk)))])
            found.update({r["id"]: r for r in self.search(request).matches})
        return found

    def bulk_write(self, resources: Sequence[dict[str, Any]]) -> None:
        """Many resources in one transaction through the store's set-based batch writer (what `joinedup load` uses):
        validated and indexed exactly as a single write, a new version only where the content changed. Audited as
        one entry naming every resource and person it touched. After-write hooks run for its resources too."""
        prepared = []
        for resource in resources:
            validate_resource(resource)
            prepared.append(Prepared.of(resource))
        what = [f"{r['resourceType']}/{r['id']}" for r in resources]
        patients = patients_of_all((str(r["resourceType"]), str(r["id"]), orjson.dumps(r)) for r in resources)
        gate = self._gate
        with gate._audited(self.context, "bulk-write", what, patients) as detail:
            with gate._store.writing() as conn:
                write_batch(conn, prepared)
            detail["entries"] = len(prepared)
        gate.after_write.run(resources)

    def current_resources(self, batch_size: int) -> Iterator[list[tuple[str, str, bytes]]]:
        """Every current (not deleted) resource as (type, id, JSON), in batches: the population views' mirror of
        the place (decision 0400). One audit entry for the whole read, with how many rows it gave."""
        from sqlalchemy import select

        from joinedup.store.schema import resources as table

        gate = self._gate
        query = select(table.c.resource_type, table.c.id, table.c.content).where(table.c.deleted.is_(False))
        with gate._audited(self.context, "read-all", [f"resources for {self.purpose}"], set()) as detail:
            total = 0
            with gate._store.engine.connect() as connection:
                result = connection.execution_options(stream_results=True, yield_per=batch_size).execute(query)
                for rows in result.partitions(batch_size):
                    total += len(rows)
                    yield [(str(r[0]), str(r[1]), bytes(r[2])) for r in rows]
            detail["returned"] = total

    @property
    def store_url(self) -> Any:
        """Where the store is (a SQLAlchemy URL), for system work that keeps a side table beside it."""
        return self._gate._store.engine.url
