"""What every store call carries: who is asking and the conditions the access gate adds to the SQL.

The store knows nothing about roles or consent. It asks the context's `visibility` for a SQL condition on the
`resources` row of each resource it is about to return (read, search, chains, includes, history, $everything,
export), so that paging and totals stay right and nothing leaks through a side path. `access/` builds contexts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import ColumnElement, FromClause


class Visibility(Protocol):
    """Builds the condition under which a stored resource may be returned; None means no restriction."""

    def condition(self, resource_row: FromClause) -> ColumnElement[bool] | None: ...


class SeeEverything:
    """For the system itself (loads, migrations, the gate's own look-ups): no condition."""

    def condition(self, resource_row: FromClause) -> ColumnElement[bool] | None:
        return None


@dataclass(frozen=True)
class StoreContext:
    """Who is asking (for the audit and for meta), for what purpose, and what they may see."""

    actor: str
    purpose: str = "treatment"
    visibility: Visibility = field(default_factory=SeeEverything)
    strict_handling: bool = False
    shown_as: Callable[[str, bytes], bytes] | None = None
    """How stored JSON leaves for this caller when it is not as stored (pseudonymised for secondary use): bulk
    export applies it to every line it writes; the gate applies the same to what it hands back."""


SYSTEM = StoreContext(actor="system", purpose="operations")
