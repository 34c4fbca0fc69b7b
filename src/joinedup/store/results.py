"""What the store hands back: plain data, no SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import orjson


@dataclass(frozen=True)
class Version:
    """One stored version of a resource; `raw` (its JSON bytes) is None for the version that records a delete.

    The bytes are kept as stored so that a read can be answered without parsing and re-serialising them.
    """

    resource_type: str
    id: str
    version_id: int
    last_updated: int  # microseconds since the epoch, UTC
    deleted: bool
    raw: bytes | None
    method: str = "PUT"

    @cached_property
    def content(self) -> dict[str, Any] | None:
        if self.raw is None:
            return None
        parsed: dict[str, Any] = orjson.loads(self.raw)
        return parsed


@dataclass(frozen=True, slots=True)
class Found:
    """A resource a search returned, as its stored JSON bytes (parsed only if someone needs the dict)."""

    resource_type: str
    id: str
    raw: bytes


@dataclass
class SearchPage:
    found: list[Found]
    found_included: list[Found] = field(default_factory=list)
    total: int | None = None
    has_next: bool = False

    @cached_property
    def matches(self) -> list[dict[str, Any]]:
        return [orjson.loads(f.raw) for f in self.found]

    @cached_property
    def included(self) -> list[dict[str, Any]]:
        return [orjson.loads(f.raw) for f in self.found_included]


@dataclass
class HistoryPage:
    versions: list[Version]
    total: int | None
    has_next: bool
