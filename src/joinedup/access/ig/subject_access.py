"""A person's subject access request (UK GDPR Article 15), assembled for the IG manager as one FHIR Bundle: their
whole record — every resource of their $everything, whoever wrote it, sensitive parts included, since it is the
person's own information — and their access log as AuditEvents (who looked, when, why). Assembling it is itself
audited, and the person sees it in their own access log.

Exemptions (information that would cause serious harm, or that names third parties) are the IG manager's to apply
to the downloaded Bundle before release; this only gathers, so nothing is silently left out.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from joinedup.fhir.errors import Forbidden
from joinedup.store.context import SYSTEM

from ..audit.audit_event import audit_event
from ..audit.trail import Actor
from ..context import AccessContext
from ..gate import AccessGate
from ..permissions import SUBJECT_ACCESS_ASSEMBLE
from ..roles import role

PAGE = 500
MAX_LOG = 100_000


def assemble(gate: AccessGate, ctx: AccessContext, patient_id: str) -> dict[str, Any]:
    """Reached through the caller's handle (`handle.subject_access`). The Bundle (type collection); NotFound when
    there is no such person. Refused unless the role may assemble."""
    what = [f"Patient/{patient_id}/$subject-access"]
    if not role(ctx.role).may(SUBJECT_ACCESS_ASSEMBLE):
        gate.audit.record(Actor.of(ctx), "subject-access", "failure", what, [patient_id], {"why": "role may not"})
        raise Forbidden(f"The role '{ctx.role}' may not assemble subject access requests")
    record: list[dict[str, Any]] = []
    try:
        offset = 0
        while True:  # the store's own $everything, unrestricted: the person's whole record
            page = gate._store.everything(SYSTEM, patient_id, None, None, PAGE, offset)
            record.extend(page.matches)
            if not page.has_next:
                break
            offset += PAGE
    except Exception as error:
        gate.audit.record(
            Actor.of(ctx), "subject-access", "failure", what, [patient_id], {"error": type(error).__name__}
        )
        raise
    log = [audit_event(e) for e in gate.audit.about_patient(patient_id, MAX_LOG)]
    gate.audit.record(Actor.of(ctx), "subject-access", "success", what, [patient_id],
                      {"resources": len(record), "access-log": len(log)})  # fmt: skip
    now = datetime.now(tz=UTC).isoformat().replace("+00:00", "Z")
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "collection",
        "timestamp": now,
        "meta": {
            "tag": [{"system": "https://joinedup.example/fhir/CodeSystem/bundle-purpose", "code": "subject-access"}]
        },
        "entry": [{"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": r} for r in [*record, *log]],
    }
