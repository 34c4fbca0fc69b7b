"""Audit entries as FHIR R4 AuditEvent resources (for export, and for a person's subject access request)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .trail import AuditEntry

DICOM = "http://dicom.nema.org/resources/ontology/DCM"
AUDIT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
RESTFUL = "http://hl7.org/fhir/restful-interaction"
PURPOSE = "http://terminology.hl7.org/CodeSystem/v3-ActReason"

_ACTION_CODE = {"create": "C", "read": "R", "vread": "R", "history": "R", "update": "U", "delete": "D",
                "export-included": "R"}  # fmt: skip
_SUBTYPE = {
    "read": "read",
    "vread": "vread",
    "search": "search-type",
    "everything": "operation",
    "history": "history-instance",
    "create": "create",
    "update": "update",
    "delete": "delete",
    "export": "operation",
    "export-included": "operation",
    "transaction": "transaction",
    "batch": "batch",
}
_PURPOSE = {"treatment": "TREAT", "operations": "HOPERAT", "analytics": "HRESCH", "break-glass": "ETREAT"}


def _instant(micros: int) -> str:
    return datetime.fromtimestamp(micros / 1_000_000, tz=UTC).isoformat().replace("+00:00", "Z")


def audit_event(entry: AuditEntry, base: str = "") -> dict[str, Any]:
    rest = entry.action in _SUBTYPE
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": f"audit-{entry.seq}",
        "type": (
            {"system": AUDIT_TYPE, "code": "rest", "display": "RESTful Operation"}
            if rest
            else {"system": DICOM, "code": "110114", "display": "User Authentication"}
            if entry.action.startswith("sign-")
            else {"system": DICOM, "code": "110113", "display": "Security Alert"}
        ),
        "action": _ACTION_CODE.get(entry.action, "E"),
        "recorded": _instant(entry.recorded),
        "outcome": "0" if entry.outcome == "success" else "4",
        "agent": [
            {
                "who": {"reference": entry.user} if "/" in entry.user else {"display": entry.user},
                "requestor": True,
                "role": [{"text": entry.role or "unknown"}],
                **({"location": {"reference": entry.organisation}} if entry.organisation else {}),
                **({"network": {"address": entry.client_address, "type": "2"}} if entry.client_address else {}),
                **(
                    {"purposeOfUse": [{"coding": [{"system": PURPOSE, "code": _PURPOSE[entry.purpose]}]}]}
                    if entry.purpose in _PURPOSE
                    else {}
                ),
            }
        ],
        "source": {"site": base or "JoinedUp", "observer": {"display": "JoinedUp access gate"}},
        "entity": [{"what": {"reference": what}} for what in entry.what[:1000]]
        + [
            {"what": {"reference": f"Patient/{p}"}, "role": {"code": "1", "display": "Patient"}} for p in entry.patients
        ],
    }
    if rest:
        event["subtype"] = [{"system": RESTFUL, "code": _SUBTYPE[entry.action]}]
    else:
        event["subtype"] = [{"display": entry.action}]
    if entry.detail:
        event["outcomeDesc"] = ", ".join(f"{k}: {v}" for k, v in sorted(entry.detail.items()))[:1000]
    return event
