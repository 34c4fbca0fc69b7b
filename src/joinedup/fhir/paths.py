"""Walk the simplified search paths of the parameter table over a resource's JSON.

Grammar: `elem(.elem)*` where a step may carry one equality filter on a direct child, `telecom[system=phone]`.
Lists are flattened at every step, as FHIRPath does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_STEP = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:\[(?P<field>[A-Za-z0-9_]+)=(?P<value>[^\]]*)\])?$")


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    filter_field: str | None = None
    filter_value: str | None = None


@lru_cache(maxsize=4096)
def compile_path(path: str) -> tuple[Step, ...]:
    """Parse a path once; ValueError when it breaks the grammar."""
    if path == "":
        return ()
    steps: list[Step] = []
    # split on dots outside brackets: filter values may be URLs with dots
    for part in re.findall(r"(?:[^.\[]|\[[^\]]*\])+", path):
        match = _STEP.match(part)
        if match is None:
            raise ValueError(f"'{path}' is not a valid search path")
        steps.append(Step(match.group("name"), match.group("field"), match.group("value")))
    return tuple(steps)


def walk(node: Any, steps: tuple[Step, ...]) -> Iterator[Any]:
    """Every value reached by following the steps from node."""
    if not steps:
        if isinstance(node, list):
            yield from node
        elif node is not None:
            yield node
        return
    step, rest = steps[0], steps[1:]
    if isinstance(node, list):
        for item in node:
            yield from walk(item, steps)
        return
    if not isinstance(node, dict):
        return
    child = node.get(step.name)
    if child is None:
        return
    children = child if isinstance(child, list) else [child]
    for item in children:
        if step.filter_field is not None and (
            not isinstance(item, dict) or str(item.get(step.filter_field)) != step.filter_value
        ):
            continue
        yield from walk(item, rest)


def values_at(resource: dict[str, Any], path: str) -> Iterator[Any]:
    yield from walk(resource, compile_path(path))
