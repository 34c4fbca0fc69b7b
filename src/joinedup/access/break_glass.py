"""Break-glass: opening a record without a relationship, in an emergency, with a reason, for a limited time.

A grant is a row the visibility condition reads (so it ends on its own when it expires), an audit entry, an item
on the IG manager's review list, and a line in the person's own access log.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update

from joinedup.fhir.errors import Forbidden, InvalidRequest
from joinedup.store.engine import WRITE
from joinedup.store.governance_schema import break_glass

from .audit.trail import Actor, AuditTrail, now_micros
from .context import AccessContext
from .permissions import BREAK_GLASS, BREAK_GLASS_REVIEW
from .roles import role

MINIMUM_REASON = 10  # characters: "emergency" alone says nothing an IG reviewer can judge


@dataclass(frozen=True)
class Grant:
    grant_id: str
    user_ref: str
    role: str
    organisation: str | None
    patient_id: str
    reason: str
    started: int
    expires: int
    reviewed_by: str | None
    reviewed_at: int | None
    review_note: str | None


class BreakGlass:
    def __init__(self, engine: Engine, audit: AuditTrail, duration_seconds: int) -> None:
        self.engine = engine
        self.audit = audit
        self.duration_micros = duration_seconds * 1_000_000

    def open(self, ctx: AccessContext, patient_id: str, reason: str) -> Grant:
        if not role(ctx.role).may(BREAK_GLASS):
            self.audit.record(
                Actor.of(ctx),
                "break-glass",
                "failure",
                [f"Patient/{patient_id}"],
                [patient_id],
                {"why": "role may not"},
            )
            raise Forbidden(f"The role '{ctx.role}' may not use break-glass")
        reason = " ".join(reason.split())
        if len(reason) < MINIMUM_REASON:
            raise InvalidRequest("Give the reason for opening this record (at least a sentence)", location="reason")
        started = now_micros()
        grant = Grant(str(uuid.uuid4()), ctx.user, ctx.role, ctx.organisation, patient_id, reason, started,
                      started + self.duration_micros, None, None, None)  # fmt: skip
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            conn.execute(insert(break_glass).values(**grant.__dict__))
        self.audit.record(
            Actor.of(ctx), "break-glass", "success", [f"Patient/{patient_id}"], [patient_id],
            {"reason": reason, "grant": grant.grant_id, "expires": grant.expires},
        )  # fmt: skip
        return grant

    def active(self, user: str, patient_id: str) -> Grant | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(break_glass)
                .where(
                    break_glass.c.user_ref == user,
                    break_glass.c.patient_id == patient_id,
                    break_glass.c.expires > now_micros(),
                )
                .order_by(break_glass.c.expires.desc())
            ).first()
        return None if row is None else Grant(**row._mapping)

    def awaiting_review(self, limit: int = 200) -> list[Grant]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(break_glass)
                .where(break_glass.c.reviewed_at.is_(None))
                .order_by(break_glass.c.started.desc())
                .limit(limit)
            ).all()
        return [Grant(**r._mapping) for r in rows]

    def for_patient(self, patient_id: str) -> list[Grant]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(break_glass).where(break_glass.c.patient_id == patient_id).order_by(break_glass.c.started.desc())
            ).all()
        return [Grant(**r._mapping) for r in rows]

    def review(self, ctx: AccessContext, grant_id: str, note: str) -> None:
        if not role(ctx.role).may(BREAK_GLASS_REVIEW):
            raise Forbidden(f"The role '{ctx.role}' may not review break-glass")
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            done = conn.execute(
                update(break_glass)
                .where(break_glass.c.grant_id == grant_id, break_glass.c.reviewed_at.is_(None))
                .values(reviewed_by=ctx.user, reviewed_at=now_micros(), review_note=note.strip() or "Reviewed")
            )
        if done.rowcount != 1:
            raise InvalidRequest("That break-glass access is not awaiting review", location="grant")
        self.audit.record(
            Actor.of(ctx), "break-glass-review", "success", [f"BreakGlass/{grant_id}"], [], {"note": note}
        )
