"""Date index rows record their span class, and a covering index serves bounded date range scans.

See store/date_spans.py for why. Existing rows are classified in place; the (resource_type, param, low) index is
replaced by (resource_type, param, span, low, high, resource_pk), which answers every bound on `low` per class
without visiting the table. The (resource_type, param, high) index goes too: a planner given it preferred a
scan of every range ending after the searched day (years of rows) to the narrow per-class scans.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_DAY_MICROS = 86_400_000_000
_BOUNDED_CLASSES = 17  # as store/date_spans.py; copied so that this migration never changes with the code


def _classify() -> sa.ColumnElement[int]:
    width = sa.column("high", sa.BigInteger) - sa.column("low", sa.BigInteger)
    whens = [(width < _DAY_MICROS * 2**b, b) for b in range(_BOUNDED_CLASSES)]
    return sa.case(*whens, else_=_BOUNDED_CLASSES)


def upgrade() -> None:
    op.add_column("idx_date", sa.Column("span", sa.SmallInteger, nullable=False, server_default="0"))
    op.execute(sa.table("idx_date", sa.column("span")).update().values(span=_classify()))
    op.drop_index("ix_idx_date_resource_type_param_low", table_name="idx_date")
    op.drop_index("ix_idx_date_resource_type_param_high", table_name="idx_date")
    op.create_index(
        "ix_idx_date_resource_type_param_span_low_high_resource_pk",
        "idx_date",
        ["resource_type", "param", "span", "low", "high", "resource_pk"],
    )


def downgrade() -> None:
    op.drop_index("ix_idx_date_resource_type_param_span_low_high_resource_pk", table_name="idx_date")
    op.create_index("ix_idx_date_resource_type_param_low", "idx_date", ["resource_type", "param", "low"])
    op.create_index("ix_idx_date_resource_type_param_high", "idx_date", ["resource_type", "param", "high"])
    with op.batch_alter_table("idx_date") as batch:
        batch.drop_column("span")
