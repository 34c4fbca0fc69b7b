"""Searches answer their candidates from covering indexes (decision 0011).

- `resources (resource_type, deleted, pk)`: every search checks each candidate's type and that it is live; the row
  itself holds the resource's JSON, so that check read a page per candidate (most of the SQL time of a search
  with hundreds of matches to count). SQLite seeks this index by all three.
- `idx_reference (resource_type, param, target_id, target_type, resource_pk)` replaces `(resource_type, param,
  target_id)`: a leading reference criterion (Tasks by owner) is one range of the index, not a row per match.
- `idx_token (resource_pk, param, code)` replaces `(resource_pk)`: a probe of one candidate's token (a Task's
  status, the gate's label and tag checks) is one seek instead of a visit to each of its token rows.

SQLite plans from sampled statistics (store/engine.py `refresh_statistics`); without them a new index looks
narrower than it is, so the new indexes are analysed here (a sampled ANALYZE of each, well under a second).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_NEW = {
    "ix_resources_type_deleted_pk": ("resources", ["resource_type", "deleted", "pk"]),
    "ix_idx_reference_type_param_target": (
        "idx_reference",
        ["resource_type", "param", "target_id", "target_type", "resource_pk"],
    ),
    "ix_idx_token_pk_param_code": ("idx_token", ["resource_pk", "param", "code"]),
}
_REPLACED = {
    "ix_idx_reference_resource_type_param_target_id": ("idx_reference", ["resource_type", "param", "target_id"]),
    "ix_idx_token_pk": ("idx_token", ["resource_pk"]),
}


def _analyse(names: list[str]) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL keeps statistics per column, which these indexes add nothing to
    op.execute("PRAGMA analysis_limit=1000")
    for name in names:
        op.execute(f"ANALYZE {name}")


def upgrade() -> None:
    for name, (table, columns) in _NEW.items():
        op.create_index(name, table, columns)
    for name, (table, _) in _REPLACED.items():
        op.drop_index(name, table_name=table)
    _analyse(list(_NEW))


def downgrade() -> None:
    for name, (table, columns) in _REPLACED.items():
        op.create_index(name, table, columns)
    for name, (table, _) in _NEW.items():
        op.drop_index(name, table_name=table)
    _analyse(list(_REPLACED))
