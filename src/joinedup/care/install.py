"""What care coordination adds to an app (DESIGN.md "Domains"): its pages, its $operations (joining the operations
table before routing), and its after-write hooks. Each sub-domain keeps its own `pages.router` and `OPERATIONS`."""

from __future__ import annotations

from fastapi import FastAPI

from joinedup.access.gate import AccessGate
from joinedup.api.operations import register_operations
from joinedup.settings import Settings

from .caseloads import operations as caseload_operations
from .caseloads import pages as caseload_pages
from .huddles import operations as huddle_operations
from .huddles import pages as huddle_pages
from .messaging import operations as messaging_operations
from .messaging import pages as messaging_pages
from .permissions import TRIAGE
from .referrals import operations as referral_operations
from .referrals import pages as referral_pages
from .triage import hooks as triage_hooks
from .triage import operations as triage_operations
from .triage import pages as triage_pages

SUB_DOMAINS = (
    (referral_pages, referral_operations),
    (messaging_pages, messaging_operations),
    (triage_pages, triage_operations),
    (caseload_pages, caseload_operations),
    (huddle_pages, huddle_operations),
)


def install_on_gate(gate: AccessGate) -> None:
    """What care coordination adds to the gate itself: its after-write hooks and the work that starts a
    relationship (tests that build a gate without an app call this too)."""
    triage_hooks.register(gate)  # a telecare alert (a Communication from a telecare platform) joins the SPA's queue
    # The single point of access takes contacts about anyone: tracing them and recording the contact and its triage
    # Task starts the relationship (access/relationship_starts.py, decision 0500)
    gate.relationship_starts.allow(TRIAGE, frozenset({"Communication", "Task"}))


def install(app: FastAPI, gate: AccessGate, settings: Settings) -> None:
    """Before the operations table is routed (app.py calls this first)."""
    del settings
    install_on_gate(gate)
    for pages, operations in SUB_DOMAINS:
        register_operations(*operations.OPERATIONS)
        app.include_router(pages.router)
