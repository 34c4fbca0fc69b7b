"""FHIR Bulk Data $export: asynchronous jobs that stream matching resources to one ndjson file per type.

A job row records the request and its state, so that status polling works from any server process; the work
runs in a background thread of the process that accepted it, with the asker's visibility fixed at kick-off.
When the files are written, and before the job says it is complete, `on_finished` is told every person whose
records the files include (the audit records them, so each sees the export in their access log; decision 0312).
"""

from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, distinct, exists, insert, literal, select, update

from joinedup.fhir import dates
from joinedup.fhir.errors import InvalidRequest, NotFound
from joinedup.fhir.patient_references import patients_in
from joinedup.fhir.resource_types import NOT_STORED, R4_RESOURCE_TYPES

from .context import StoreContext
from .fhir_store import FhirStore
from .schema import export_jobs, idx_reference, resources
from .search_compiler import live_rows


@dataclass(frozen=True)
class ExportRequest:
    kind: str  # system, patient, group
    types: tuple[str, ...]
    since: int | None
    group_id: str | None
    request_url: str


@dataclass(frozen=True)
class ExportStatus:
    job_id: str
    status: str
    manifest: dict[str, Any] | None
    error: str | None


@dataclass(frozen=True)
class FinishedExport:
    """A job whose files are written: who asked, and every person whose records the files include."""

    job_id: str
    ctx: StoreContext
    patient_ids: frozenset[str]


def requested_by(store: FhirStore, job_id: str) -> str | None:
    """Who started an export job (None: no such job)."""
    with store.reading() as conn:
        owner = conn.execute(select(export_jobs.c.requested_by).where(export_jobs.c.job_id == job_id)).scalar()
    return None if owner is None else str(owner)


class ExportJobs:
    def __init__(
        self, store: FhirStore, export_dir: Path, on_finished: Callable[[FinishedExport], None] | None = None
    ) -> None:
        self.store = store
        self.export_dir = export_dir
        self.on_finished = on_finished

    def kick_off(self, ctx: StoreContext, request: ExportRequest) -> str:
        for resource_type in request.types:
            if resource_type not in R4_RESOURCE_TYPES:
                raise InvalidRequest(f"_type '{resource_type}' is not an R4 resource type", location="_type")
        if request.kind == "group":
            self._group_members(ctx, request.group_id or "")  # 404 now rather than a failed job later
        job_id = uuid.uuid4().hex
        with self.store.writing() as conn:
            conn.execute(
                insert(export_jobs).values(
                    job_id=job_id,
                    status="in-progress",
                    request_url=request.request_url,
                    requested_by=ctx.actor,
                    created=dates.micros(dates.now_instant()),
                )
            )
        thread = threading.Thread(target=self._run, args=(ctx, job_id, request), name=f"export-{job_id}", daemon=True)
        thread.start()
        return job_id

    def status(self, job_id: str) -> ExportStatus:
        with self.store.reading() as conn:
            row = conn.execute(select(export_jobs).where(export_jobs.c.job_id == job_id)).first()
        if row is None:
            raise NotFound(f"No export job '{job_id}'")
        manifest = orjson.loads(row.manifest) if row.manifest else None
        return ExportStatus(job_id, row.status, manifest, row.error)

    def cancel(self, job_id: str) -> None:
        self.status(job_id)
        with self.store.writing() as conn:
            conn.execute(update(export_jobs).where(export_jobs.c.job_id == job_id).values(status="cancelled"))
        shutil.rmtree(self.export_dir / job_id, ignore_errors=True)

    def file_path(self, job_id: str, name: str) -> Path:
        if self.status(job_id).status != "complete" or "/" in name or not name.endswith(".ndjson"):
            raise NotFound(f"No export file '{name}' in job '{job_id}'")
        path = self.export_dir / job_id / name
        if not path.is_file():
            raise NotFound(f"No export file '{name}' in job '{job_id}'")
        return path

    # --- the work --------------------------------------------------------------------------------------------
    def _group_members(self, ctx: StoreContext, group_id: str) -> list[str]:
        group = self.store.read(ctx, "Group", group_id).content or {}
        members = []
        for member in group.get("member") or []:
            reference = str((member.get("entity") or {}).get("reference", ""))
            if reference.startswith("Patient/"):
                members.append(reference.split("/", 1)[1])
        return members

    def _run(self, ctx: StoreContext, job_id: str, request: ExportRequest) -> None:
        folder = self.export_dir / job_id
        try:
            folder.mkdir(parents=True, exist_ok=True)
            transaction_time = dates.micros(dates.now_instant())
            patients = self._group_members(ctx, request.group_id or "") if request.kind == "group" else None
            outputs = []
            included: set[str] = set()
            for resource_type in self._types(request):
                count = self._write_type(ctx, folder, resource_type, request, patients, transaction_time, included)
                if count:
                    outputs.append({"type": resource_type, "url": f"{job_id}/{resource_type}.ndjson", "count": count})
                if self.status(job_id).status == "cancelled":
                    return
            manifest = {
                "transactionTime": dates.format_instant(dates.from_micros(transaction_time)),
                "request": request.request_url,
                "requiresAccessToken": False,
                "output": outputs,
                "error": [],
            }
            if self.on_finished is not None:  # before the files can be fetched: a failure here fails the job
                self.on_finished(FinishedExport(job_id, ctx, frozenset(included)))
            with self.store.writing() as conn:
                conn.execute(
                    update(export_jobs)
                    .where(export_jobs.c.job_id == job_id)
                    .values(status="complete", transaction_time=transaction_time, manifest=orjson.dumps(manifest))
                )
        except Exception as error:  # a failed job must say so to the poller rather than spin for ever
            with self.store.writing() as conn:
                conn.execute(
                    update(export_jobs)
                    .where(export_jobs.c.job_id == job_id)
                    .values(status="error", error=f"{type(error).__name__}: {error}")
                )

    def _types(self, request: ExportRequest) -> list[str]:
        if request.types:
            return list(request.types)
        with self.store.reading() as conn:
            present = conn.execute(select(distinct(resources.c.resource_type))).scalars().all()
        return sorted(t for t in present if t not in NOT_STORED)

    def _write_type(
        self,
        ctx: StoreContext,
        folder: Path,
        resource_type: str,
        request: ExportRequest,
        patients: Sequence[str] | None,
        transaction_time: int,
        included: set[str],
    ) -> int:
        """Write one type's file; `included` gains every person the written resources concern."""
        row = resources.alias("r")
        conditions: list[ColumnElement[bool]] = [
            *live_rows(row, resource_type, ctx.visibility),
            row.c.last_updated <= transaction_time,
        ]
        if request.since is not None:
            conditions.append(row.c.last_updated >= request.since)
        if request.kind in {"patient", "group"}:
            conditions.append(_in_patient_compartments(row, resource_type, patients))
        count = 0
        path = folder / f"{resource_type}.ndjson"
        with self.store.reading() as conn, path.open("wb") as handle:
            result = conn.execution_options(stream_results=True, yield_per=1000).execute(
                select(row.c.id, row.c.content).where(and_(*conditions)).order_by(row.c.pk)
            )
            for item in result:
                included |= patients_in(resource_type, item.id, item.content)
                handle.write(item.content if ctx.shown_as is None else ctx.shown_as(resource_type, item.content))
                handle.write(b"\n")
                count += 1
        if count == 0:
            path.unlink()
        return count


def _in_patient_compartments(row: Any, resource_type: str, patients: Sequence[str] | None) -> ColumnElement[bool]:
    """Every patient (patients None) or the listed ones: the patient itself, or resources referring to them."""
    if resource_type == "Patient":
        return row.c.id.in_(list(patients)) if patients is not None else literal(True)
    link = idx_reference.alias()
    conditions = [link.c.resource_pk == row.c.pk, link.c.target_type == "Patient"]
    if patients is not None:
        conditions.append(link.c.target_id.in_(list(patients)))
    return exists(select(literal(1)).select_from(link).where(*conditions))
