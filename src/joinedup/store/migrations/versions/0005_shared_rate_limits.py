"""Rate limits shared by every worker process: failed sign-ins and token requests, one row per failure.

Each row keeps the SHA-256 of the key (the name tried or the client address, never in clear: people type
passwords into the name box) and when it failed; the throttle counts a key's rows inside the window. See
access/accounts/throttle.py and docs/decisions/0310.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_failures",
        sa.Column("pk", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("failed_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_rate_limit_failures_key", "rate_limit_failures", ["scope", "key_hash", "failed_at"])
    op.create_index("ix_rate_limit_failures_at", "rate_limit_failures", ["failed_at"])


def downgrade() -> None:
    op.drop_table("rate_limit_failures")
