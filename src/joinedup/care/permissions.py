"""The capabilities care coordination checks (decision 0315)."""

from __future__ import annotations

from joinedup.access.capabilities import declare

CAPABILITIES = declare(
    "care",
    {
        "triage": "triage referrals that arrive at the single point of access",
        "caseload.manage": "manage a neighbourhood's caseload: its multidisciplinary group, its population "
        "figures and case-finding lists",
    },
)
TRIAGE = CAPABILITIES["triage"]
CASELOAD_MANAGE = CAPABILITIES["caseload.manage"]
