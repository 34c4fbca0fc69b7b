"""The initial store: current resources, every version, the search index tables and export jobs.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Pk = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def byte_ordered(length: int | None = None) -> sa.String:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def _index_table(name: str, columns: list[sa.Column[Any]], indexes: list[tuple[str, ...]]) -> None:
    op.create_table(
        name,
        sa.Column("resource_pk", Pk, nullable=False),
        sa.Column("resource_type", sa.String(64), nullable=False),
        sa.Column("param", sa.String(64), nullable=False),
        *columns,
    )
    op.create_index(f"ix_{name}_pk", name, ["resource_pk"])
    for index_columns in indexes:
        op.create_index(f"ix_{name}_{'_'.join(index_columns)}", name, list(index_columns))


def upgrade() -> None:
    op.create_table(
        "resources",
        sa.Column("pk", Pk, primary_key=True, autoincrement=True),
        sa.Column("resource_type", sa.String(64), nullable=False),
        sa.Column("id", byte_ordered(64), nullable=False),
        sa.Column("version_id", sa.Integer, nullable=False),
        sa.Column("last_updated", sa.BigInteger, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("source", sa.String(255)),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary),
    )
    op.create_index("ux_resources_type_id", "resources", ["resource_type", "id"], unique=True)
    op.create_index("ix_resources_type_updated", "resources", ["resource_type", "last_updated"])
    op.create_index("ix_resources_updated", "resources", ["last_updated"])
    op.create_table(
        "resource_versions",
        sa.Column("resource_pk", Pk, primary_key=True, autoincrement=False),
        sa.Column("version_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("resource_type", sa.String(64), nullable=False),
        sa.Column("id", byte_ordered(64), nullable=False),
        sa.Column("last_updated", sa.BigInteger, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("content", sa.LargeBinary),
    )
    op.create_index("ix_versions_type_updated", "resource_versions", ["resource_type", "last_updated"])
    op.create_index("ix_versions_updated", "resource_versions", ["last_updated"])
    _index_table(
        "idx_string",
        [sa.Column("value", byte_ordered(), nullable=False), sa.Column("exact", sa.Text, nullable=False)],
        [("resource_type", "param", "value")],
    )
    _index_table(
        "idx_token",
        [
            sa.Column("system", byte_ordered(), nullable=False),
            sa.Column("code", byte_ordered(), nullable=False),
            sa.Column("text", sa.Text),
        ],
        [("resource_type", "param", "code", "system")],
    )
    _index_table(
        "idx_reference",
        [
            sa.Column("target_type", sa.String(64)),
            sa.Column("target_id", byte_ordered(64)),
            sa.Column("url", sa.Text),
            sa.Column("ident_system", sa.Text),
            sa.Column("ident_value", sa.Text),
        ],
        [("target_id", "target_type", "param"), ("resource_type", "param", "target_id")],
    )
    _index_table(
        "idx_date",
        [sa.Column("low", sa.BigInteger, nullable=False), sa.Column("high", sa.BigInteger, nullable=False)],
        [("resource_type", "param", "low"), ("resource_type", "param", "high")],
    )
    _index_table(
        "idx_number",
        [
            sa.Column("value", sa.Float, nullable=False),
            sa.Column("low", sa.Float, nullable=False),
            sa.Column("high", sa.Float, nullable=False),
        ],
        [("resource_type", "param", "value")],
    )
    _index_table(
        "idx_quantity",
        [
            sa.Column("value", sa.Float, nullable=False),
            sa.Column("low", sa.Float, nullable=False),
            sa.Column("high", sa.Float, nullable=False),
            sa.Column("system", byte_ordered(), nullable=False),
            sa.Column("code", byte_ordered(), nullable=False),
            sa.Column("unit", sa.Text),
        ],
        [("resource_type", "param", "value")],
    )
    _index_table("idx_uri", [sa.Column("value", byte_ordered(), nullable=False)], [("resource_type", "param", "value")])
    op.create_table(
        "export_jobs",
        sa.Column("job_id", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("request_url", sa.Text, nullable=False),
        sa.Column("requested_by", sa.String(255)),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("transaction_time", sa.BigInteger),
        sa.Column("manifest", sa.LargeBinary),
        sa.Column("error", sa.Text),
    )


def downgrade() -> None:
    for table in (
        "export_jobs",
        "idx_uri",
        "idx_quantity",
        "idx_number",
        "idx_date",
        "idx_reference",
        "idx_token",
        "idx_string",
        "resource_versions",
        "resources",
    ):
        op.drop_table(table)
