"""After-write hooks: what a domain has registered to happen when a resource of a type is written (decision 0314).

The gate runs them after every successful write path — create, update, conditional update, patch, and each written
entry of a transaction or batch Bundle — so a reaction (the person index placing an arriving Patient) cannot be
forgotten by a route that writes. A hook runs after the write has committed: its failure never undoes the write,
and is logged by the hook's name and the error's type only (never an identifier or content).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)

Hook = Callable[[dict[str, Any]], None]


class AfterWriteHooks:
    def __init__(self) -> None:
        self._by_type: dict[str, list[tuple[str, Hook]]] = defaultdict(list)

    def register(self, resource_type: str, name: str, hook: Hook) -> None:
        """`hook(resource)` after each write of a `resource_type`; `name` says whose it is, in logs."""
        if any(known == name for known, _ in self._by_type[resource_type]):
            raise ValueError(f"an after-write hook '{name}' is already registered for {resource_type}")
        self._by_type[resource_type].append((name, hook))

    def registered(self) -> dict[str, list[str]]:
        return {t: [name for name, _ in hooks] for t, hooks in self._by_type.items() if hooks}

    def wants(self, resource_type: str) -> bool:
        return bool(self._by_type.get(resource_type))

    def run(self, written: Iterable[dict[str, Any] | None]) -> None:
        for resource in written:
            if not resource:
                continue
            for name, hook in self._by_type.get(str(resource.get("resourceType")), ()):
                try:
                    hook(resource)
                except Exception as error:  # never undoes the write; the batch run or a retry catches up
                    log.warning("after-write hook %s failed (%s)", name, type(error).__name__)
