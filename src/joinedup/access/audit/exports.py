"""Bulk exports in the audit: every person whose records an export's files include is named by an entry, so that a
resident's access log says "included your records in a bulk export" (decision 0312).

The store's export job cannot reach the audit (store/ imports nothing above it), so the app gives the job this
recorder. The job knows who asked only as a user reference; the rest of the actor (role, organisation, address) is
the kick-off's, recorded by the gate when the job was accepted: that user's latest `export` entry.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
from sqlalchemy import select

from joinedup.store.export import FinishedExport
from joinedup.store.governance_schema import audit_log

from .trail import Actor, AuditEntry, AuditTrail

ACTION = "export-included"
PEOPLE_PER_ENTRY = 1_000  # one entry per thousand people: a borough's export must not hold the chain's lock long


def export_recorder(trail: AuditTrail) -> Callable[[FinishedExport], None]:
    def record(job: FinishedExport) -> None:
        actor = _kick_off_actor(trail, job.ctx.actor) or Actor(job.ctx.actor, purpose=job.ctx.purpose, via="api")
        people = sorted(job.patient_ids)
        parts = max(1, -(-len(people) // PEOPLE_PER_ENTRY))
        for part in range(parts):
            named = people[part * PEOPLE_PER_ENTRY : (part + 1) * PEOPLE_PER_ENTRY]
            detail = {"job": job.job_id, "part": part + 1, "parts": parts, "people": len(people)}
            trail.record(actor, ACTION, "success", [f"export-job/{job.job_id}"], named, detail)

    return record


def _kick_off_actor(trail: AuditTrail, user: str) -> Actor | None:
    with trail.engine.connect() as conn:
        row = conn.execute(
            select(audit_log.c.seq, audit_log.c.entry)
            .where(audit_log.c.user_ref == user, audit_log.c.action == "export", audit_log.c.outcome == "success")
            .order_by(audit_log.c.seq.desc())
            .limit(1)
        ).first()
    if row is None:
        return None
    entry = AuditEntry.from_json(row.seq, row.entry)
    via = str(orjson.loads(row.entry).get("via") or "api")
    return Actor(entry.user, entry.role, entry.organisation, entry.purpose, entry.client_address, via)
