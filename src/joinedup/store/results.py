"""What the store hands back: plain data, no SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Version:
    """One stored version of a resource; content is None for the version that records a delete."""

    resource_type: str
    id: str
    version_id: int
    last_updated: int  # microseconds since the epoch, UTC
    deleted: bool
    content: dict[str, Any] | None
    method: str = "PUT"


@dataclass
class SearchPage:
    matches: list[dict[str, Any]]
    included: list[dict[str, Any]] = field(default_factory=list)
    total: int | None = None
    has_next: bool = False


@dataclass
class HistoryPage:
    versions: list[Version]
    total: int | None
    has_next: bool
