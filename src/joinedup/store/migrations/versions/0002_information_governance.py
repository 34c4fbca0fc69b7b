"""Information governance: break-glass grants, the append-only audit trail, accounts, OAuth clients and tokens.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Pk = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "break_glass",
        sa.Column("grant_id", sa.String(36), primary_key=True),
        sa.Column("user_ref", sa.String(255), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("organisation", sa.String(255)),
        sa.Column("patient_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("started", sa.BigInteger, nullable=False),
        sa.Column("expires", sa.BigInteger, nullable=False),
        sa.Column("reviewed_by", sa.String(255)),
        sa.Column("reviewed_at", sa.BigInteger),
        sa.Column("review_note", sa.Text),
    )
    op.create_index("ix_break_glass_user_patient", "break_glass", ["user_ref", "patient_id", "expires"])
    op.create_index("ix_break_glass_patient", "break_glass", ["patient_id"])
    op.create_index("ix_break_glass_review", "break_glass", ["reviewed_at", "started"])
    op.create_table(
        "audit_log",
        sa.Column("seq", Pk, primary_key=True, autoincrement=False),
        sa.Column("recorded", sa.BigInteger, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("user_ref", sa.String(255), nullable=False),
        sa.Column("role", sa.String(64)),
        sa.Column("organisation", sa.String(255)),
        sa.Column("purpose", sa.String(64)),
        sa.Column("client_address", sa.String(64)),
        sa.Column("entry", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_log_recorded", "audit_log", ["recorded"])
    op.create_index("ix_audit_log_user", "audit_log", ["user_ref", "recorded"])
    op.create_table(
        "audit_subjects",
        sa.Column("seq", Pk, nullable=False),
        sa.Column("patient_id", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_subjects_patient", "audit_subjects", ["patient_id", "seq"])
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
    )
    # The chain's head exists from the start, so appends only ever update it (one row to lock, no insert race).
    op.bulk_insert(
        sa.table("audit_head", sa.column("id", sa.Integer), sa.column("seq", sa.BigInteger), sa.column("entry_hash")),
        [{"id": 1, "seq": 0, "entry_hash": "0" * 64}],
    )
    op.create_table(
        "accounts",
        sa.Column("username", sa.String(255), primary_key=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("display_name", sa.String(255), nullable=False),
        sa.Column("user_ref", sa.String(255), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("organisation", sa.String(255)),
        sa.Column("organisation_name", sa.String(255)),
        sa.Column("totp_secret", sa.String(64)),
        sa.Column("failed_attempts", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.BigInteger),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "oauth_clients",
        sa.Column("client_id", sa.String(128), primary_key=True),
        sa.Column("secret_hash", sa.String(255)),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("organisation", sa.String(255)),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("redirect_uris", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "oauth_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("user_ref", sa.String(255), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("organisation", sa.String(255)),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("expires", sa.BigInteger, nullable=False),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_oauth_tokens_expires", "oauth_tokens", ["expires"])


def downgrade() -> None:
    for table in ("oauth_tokens", "oauth_clients", "accounts", "audit_head", "audit_subjects", "audit_log"):
        op.drop_table(table)
    op.drop_table("break_glass")
