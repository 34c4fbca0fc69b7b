"""The capabilities care coordination checks (decision 0315); roles.json grants them (version 2026.3)."""

from __future__ import annotations

from joinedup.access.capabilities import declare

CAPABILITIES = declare(
    "care",
    {
        "triage": "triage contacts and referrals that arrive at the single point of access",
        "caseload.manage": "manage a neighbourhood's caseload: its multidisciplinary group, its agendas, its "
        "population figures and case-finding lists",
        "referral.send": "refer a person to a service, from their record, and follow the referral",
        "referral.receive": "act on referrals sent to one's own team: accept, decline, ask for more information, "
        "redirect, allocate, claim, record the first contact and the outcome",
        "message.process": "send NHS Booking and Referral Standard messages to $process-message (integration clients)",
        "caseload.allocate": "move people and work between a team's workers, and see each worker's load",
        "huddle.attend": "take part in the huddles of a multidisciplinary group one is a member of: its agenda, "
        "summaries, decisions and actions",
        "spa.measures.read": "see the single point of access's measures: contacts by route, resolution at first "
        "contact, time to a triage decision",
    },
)
TRIAGE = CAPABILITIES["triage"]
CASELOAD_MANAGE = CAPABILITIES["caseload.manage"]
REFERRAL_SEND = CAPABILITIES["referral.send"]
REFERRAL_RECEIVE = CAPABILITIES["referral.receive"]
MESSAGE_PROCESS = CAPABILITIES["message.process"]
CASELOAD_ALLOCATE = CAPABILITIES["caseload.allocate"]
HUDDLE_ATTEND = CAPABILITIES["huddle.attend"]
SPA_MEASURES_READ = CAPABILITIES["spa.measures.read"]
