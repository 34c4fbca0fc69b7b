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


def install(app: FastAPI, gate: AccessGate, settings: Settings) -> None:
    """Before the operations table is routed (app.py calls this first); `gate` and `settings` are for the hooks."""
    del settings
    triage_hooks.register(gate)  # a telecare alert (a Communication from a telecare platform) joins the SPA's queue
    for pages, operations in SUB_DOMAINS:
        register_operations(*operations.OPERATIONS)
        app.include_router(pages.router)
