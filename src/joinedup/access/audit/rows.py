"""What an append writes, shared by the two databases' appenders: the audit_log columns in order and the rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# audit_log's columns (store/governance_schema.py), in the order both appenders' INSERTs name them.
ENTRY_COLUMNS = (
    "seq",
    "recorded",
    "action",
    "outcome",
    "user_ref",
    "role",
    "organisation",
    "purpose",
    "client_address",
    "entry",
    "prev_hash",
    "entry_hash",
    "key_id",
)

# An append's entries (a dict per audit_log row) and, for each entry number, the people it concerns.
Rows = tuple[list[dict[str, Any]], list[tuple[int, Sequence[str]]]]
