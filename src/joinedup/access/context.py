"""Who is asking and why: carried by every call through the gate."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AccessContext:
    user: str  # a reference: 'PractitionerRole/…', 'Patient/…' (a resident), 'Client/…' (a system)
    role: str
    organisation: str | None = None  # 'Organization/…'
    purpose: str = "treatment"  # treatment (direct care), operations, analytics (secondary use)
    break_glass_reason: str | None = None
    client_address: str | None = None
    strict_handling: bool = False
    scopes: tuple[str, ...] | None = None  # SMART scopes of a bearer token; None when signed in to the pages
    via: str = "web"  # how they came in: web, api (token), development (the development fallback), system
