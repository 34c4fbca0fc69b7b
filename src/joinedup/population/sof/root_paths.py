"""Placeholders for the JSON paths a view reads from the resource, numbered once the whole view is compiled.

On DuckDB every path a view (or all the views of one type) reads from the resource itself is extracted in one
parse per resource, into columns `jp1`, `jp2`, ...; while compiling, the paths are not all known yet, so the
compiler writes a placeholder and `resolve_root_paths` numbers them at the end.
"""

from __future__ import annotations

import re

_ROOT_PATH = re.compile("\u00abjp:([^\u00bb]*)\u00bb")


def root_path(path: str) -> str:
    """A placeholder for the value at `path` in the resource, taken from the view's one JSON parse."""
    return f"\u00abjp:{path}\u00bb"


def resolve_root_paths(sql: str, positions: dict[str, int]) -> str:
    """Placeholders to columns `t.jp<n>`, numbering the paths in `positions` as they are first met."""

    def position(match: re.Match[str]) -> str:
        number = positions.setdefault(match.group(1), len(positions) + 1)
        return f"t.jp{number}"

    return _ROOT_PATH.sub(position, sql)
