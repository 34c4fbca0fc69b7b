"""Streams resources to OUT/feeds/<source>/<ResourceType>.ndjson as they are made, counting them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import IO, Any

import orjson

BUFFER = 1 << 20


class FeedWriter:
    def __init__(self, feeds_dir: Path) -> None:
        self.feeds_dir = feeds_dir
        self.handles: dict[tuple[str, str], IO[bytes]] = {}
        self.counts: Counter[tuple[str, str]] = Counter()

    def write(self, source: str, resource: dict[str, Any]) -> None:
        key = (source, resource["resourceType"])
        handle = self.handles.get(key)
        if handle is None:
            folder = self.feeds_dir / source
            folder.mkdir(parents=True, exist_ok=True)
            handle = self.handles[key] = (folder / f"{key[1]}.ndjson").open("wb", buffering=BUFFER)
        handle.write(orjson.dumps(resource))
        handle.write(b"\n")
        self.counts[key] += 1

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()
        self.handles.clear()

    def summary(self) -> dict[str, dict[str, int]]:
        """Counts per feed and resource type, sorted, for the manifest."""
        result: dict[str, dict[str, int]] = {}
        for (source, resource_type), count in sorted(self.counts.items()):
            result.setdefault(source, {})[resource_type] = count
        return result
