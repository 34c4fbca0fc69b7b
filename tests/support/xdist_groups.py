"""`--dist loadgroup` as pytest-xdist documents it, on pytest versions whose node ids xdist cannot rename.

xdist (3.8) puts tests marked `xdist_group(name)` in one worker by appending `@name` to each item's node id, which it
does by setting `item._nodeid`. pytest 9.2 keeps a node id as a structured `item._id` and no longer reads
`_nodeid`, so the suffix is silently lost and every group is spread over the workers: the Spark tests started a JVM
in each worker, and a check that needs its module's cases in one process saw half of them. This hook, run after
xdist's, applies the same suffix where it is missing; it does nothing where xdist's own works (the suffix is there)
or without `--dist loadgroup`.
"""

from __future__ import annotations

import pytest
from _pytest.nodeid import NodeId


def _group(item: pytest.Item) -> str:
    names = {
        str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
        for mark in item.iter_markers("xdist_group")
    }
    return "_".join(sorted(names))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        group = _group(item)
        if group and not item.nodeid.endswith(f"@{group}"):
            item._id = NodeId.parse(f"{item.nodeid}@{group}")  # what xdist meant by `item._nodeid = ...`
