"""Who is asking and why: carried by every call through the gate."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AccessContext:
    user: str
    role: str
    organisation: str | None = None
    purpose: str = "treatment"  # treatment, operations, secondary-use, …
    break_glass_reason: str | None = None
    client_address: str | None = None
    strict_handling: bool = False
